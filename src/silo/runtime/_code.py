"""Preparing an extracted code artifact so environments import it fast and after a privilege drop."""

from __future__ import annotations

import compileall
import os
import py_compile
from pathlib import Path


def prepare_code_dir(code_dir: Path) -> None:
    """Byte-compile ``code_dir`` (unchecked-hash pycs: no source stat on import) and make it
    world-readable (directories 0755, files 0644), so an unprivileged environment can import it.

    Call it once per extracted artifact, before any environment uses it. Every ancestor directory
    must be traversable (``x``) by the environments' user as well.
    """
    root = Path(code_dir)
    compileall.compile_dir(
        root,
        quiet=2,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    os.chmod(root, 0o755)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755, follow_symlinks=False)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                os.chmod(path, 0o644)
