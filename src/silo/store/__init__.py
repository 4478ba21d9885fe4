"""The store: one schema (SQLAlchemy Core) on SQLite or PostgreSQL, with versioned migrations."""

from silo.store.bulk import insert_rows
from silo.store.engine import Store
from silo.store.scoping import UnscopedQuery
from silo.store.types import UtcDateTime, utcnow

__all__ = ["Store", "UnscopedQuery", "UtcDateTime", "insert_rows", "utcnow"]
