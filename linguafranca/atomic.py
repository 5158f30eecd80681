"""Atomic writes: an interrupted job must never leave a file that looks finished.

Every output is written under a temporary name beside its final path and renamed into place only once it is
complete. A rename within one directory is atomic on POSIX file systems, so readers and Snakemake see either
nothing or the whole output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _temporary_sibling(path: Path, directory: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{path.name}.tmp-"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
    handle, name = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    os.close(handle)
    return Path(name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _default_permissions(path: Path, directory: bool) -> None:
    """mkstemp/mkdtemp create private (0600/0700) paths; give outputs the usual umask-based modes."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if directory else 0o666) & ~umask)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write to; on success it replaces ``path``, on error it is deleted.

    ``directory=True`` is for outputs that are folders, such as Zarr stores.
    """
    final = Path(path)
    temporary = _temporary_sibling(final, directory)
    try:
        yield temporary
        _default_permissions(temporary, directory)
        if directory and final.exists():
            _remove(final)
        os.replace(temporary, final)
    except BaseException:
        _remove(temporary)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically, UTF-8."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
