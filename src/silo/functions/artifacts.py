"""Content-addressed code artifacts: stored once however many functions use them."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from silo.errors import NotFound
from silo.functions.packaging import CodeArchive, extract
from silo.runtime import prepare_code_dir
from silo.store import Store, utcnow
from silo.store.schema import fleet_code_artifacts


class ArtifactStore:
    """Zips in ``fleet_code_artifacts`` keyed by sha256; unpacked on demand into ``cache_dir/<sha>``."""

    def __init__(self, store: Store, cache_dir: Path) -> None:
        self._store = store
        self._cache = cache_dir
        self._lock = threading.Lock()
        self._ready: dict[str, Path] = {}  # unpacked on this machine: no stat() per invocation

    def put(self, conn: sa.Connection, archive: CodeArchive) -> None:
        """Store the archive unless an identical one is already there (inside the caller's transaction)."""
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            insert(fleet_code_artifacts)
            .values(sha256=archive.sha256, size=archive.size, data=archive.data, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=["sha256"])
        )

    def count(self) -> int:
        with self._store.read() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(fleet_code_artifacts)).scalar_one()
            )

    def code_dir(self, sha256: str) -> Path:
        """The unpacked, byte-compiled tree for an artifact, made once per machine."""
        ready = self._ready.get(sha256)
        if ready is not None:
            return ready
        target = self._cache / sha256
        if target.is_dir():
            self._ready[sha256] = target
            return target
        with self._lock:
            if target.is_dir():
                self._ready[sha256] = target
                return target
            with self._store.read() as conn:
                data = conn.execute(
                    sa.select(fleet_code_artifacts.c.data).where(fleet_code_artifacts.c.sha256 == sha256)
                ).scalar()
            if data is None:
                raise NotFound(f"code artifact {sha256} is missing")
            self._cache.mkdir(parents=True, exist_ok=True)
            self._cache.chmod(0o711)  # traversable, not listable: reaching a tree needs its hash
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self._cache))
            try:
                extract(bytes(data), staging / "code")
                prepare_code_dir(staging / "code")
                (staging / "code").rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            self._ready[sha256] = target
        return target
