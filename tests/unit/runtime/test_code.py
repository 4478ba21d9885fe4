"""prepare_code_dir: byte-compiled (unchecked-hash pycs) and world-readable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from silo.runtime import prepare_code_dir


def test_prepare_code_dir(tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "app.py").write_text("X = 1\n")
    (code / "pkg" / "__init__.py").write_text("")
    (code / "data.txt").write_text("data")
    os.chmod(code / "data.txt", 0o600)
    os.chmod(code / "pkg", 0o700)

    prepare_code_dir(code)

    pyc = next((code / "__pycache__").glob("app.*.pyc"))
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, source not checked
    assert (code / "pkg" / "__pycache__").is_dir()
    for path in [code, *code.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), path
