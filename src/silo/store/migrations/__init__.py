"""Versioned schema migrations, applied in order by ``silo.store.migrate``.

Each module ``vNNNN_<title>.py`` defines ``upgrade(op)`` with alembic's ``Operations``. A migration,
once released, is never edited: a change to the schema is a new module. A test checks that all
migrations applied in order give exactly ``silo.store.schema.metadata``.
"""
