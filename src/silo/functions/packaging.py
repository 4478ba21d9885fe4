"""Function code as zip archives: built reproducibly from a directory, checked before storing."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from silo.errors import ValidationError

MAX_ZIP_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
MAX_ENTRIES = 20_000
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".git", ".venv", ".mypy_cache", ".pytest_cache"}


@dataclass(frozen=True, slots=True)
class CodeArchive:
    """A checked zip: its bytes, sha256 and size."""

    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


def zip_directory(root: Path) -> bytes:
    """Zip a directory reproducibly (sorted names, fixed times), so the same tree gives the same hash."""
    if not root.is_dir():
        raise ValidationError(f"code: {root} is not a directory", field="code")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for filename in sorted(filenames):
                if filename.endswith((".pyc", ".pyo")):
                    continue
                full = Path(dirpath) / filename
                if full.is_symlink() or not full.is_file():
                    continue
                info = zipfile.ZipInfo(full.relative_to(root).as_posix(), date_time=_FIXED_TIME)
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, full.read_bytes())
    return buffer.getvalue()


def check_archive(data: bytes) -> CodeArchive:
    """Refuse what is not a safe zip: too big, unsafe paths, links, zip bombs."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise ValidationError("code: an empty archive", field="code")
    if len(data) > MAX_ZIP_BYTES:
        raise ValidationError(f"code: the zip is {len(data)} bytes, over {MAX_ZIP_BYTES}", field="code")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES:
                raise ValidationError(f"code: more than {MAX_ENTRIES} files", field="code")
            total = 0
            for entry in entries:
                _check_member(entry)
                total += entry.file_size
            if total > MAX_UNZIPPED_BYTES:
                raise ValidationError(
                    f"code: unzipped size {total} is over {MAX_UNZIPPED_BYTES} bytes", field="code"
                )
            bad = archive.testzip()
            if bad is not None:
                raise ValidationError(f"code: corrupt member {bad!r} in the zip", field="code")
    except zipfile.BadZipFile as exc:
        raise ValidationError(f"code: not a zip archive ({exc})", field="code") from None
    return CodeArchive(bytes(data), hashlib.sha256(data).hexdigest())


def extract(data: bytes, target: Path) -> None:
    """Extract a checked archive into ``target`` (which must not exist yet)."""
    target.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            _check_member(entry)
            archive.extract(entry, target)


def _check_member(entry: zipfile.ZipInfo) -> None:
    name = PurePosixPath(entry.filename)
    if name.is_absolute() or ".." in name.parts or "\\" in entry.filename or entry.filename.startswith("/"):
        raise ValidationError(f"code: unsafe path {entry.filename!r} in the zip", field="code")
    mode = entry.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ValidationError(f"code: symbolic link {entry.filename!r} in the zip", field="code")


def zip_sources(files: dict[str, str]) -> bytes:
    """Zip in-memory source files reproducibly (inline code in a template becomes ``index.py``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name].encode())
    return buffer.getvalue()
