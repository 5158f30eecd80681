"""Atomic writes: an interrupted job must never leave a file that looks finished.

Every output is written under a temporary name beside its final path and renamed into place only once it is
complete. A rename within one directory is atomic on POSIX file systems, so readers and Snakemake see either
nothing or the whole output.

A job killed outright (SIGKILL, an out-of-memory kill, a lost node) cannot delete its temporary, so the temporaries
are named ``.{name}.tmp-XXXXXXXX`` after their final path, and the next write of that path removes them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from linguafranca.errors import LinguaFrancaError

_RANDOM_SUFFIX = "[a-z0-9_]{8}"
"""What tempfile puts after the prefix (its ``_RandomNameSequence``: 8 characters of ``a-z0-9_``)."""


def stale_temporaries(path: Path) -> list[Path]:
    """The temporaries of ``path`` that are lying beside it: ``.{name}.tmp-`` and tempfile's 8-character suffix.

    The exact pattern keeps other outputs' temporaries out, even that of an output named ``{name}.tmp-x``.
    """
    pattern = re.compile(rf"\.{re.escape(path.name)}\.tmp-{_RANDOM_SUFFIX}")
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name))


def _temporary_sibling(path: Path, directory: bool) -> Path:
    """A new temporary beside ``path``, after removing the ones that a killed job left there.

    Removing them is safe because only the job that produces ``path`` writes it, and Snakemake's lock on the
    working directory lets one job at a time produce a given output. A temporary of ``path`` that exists when
    its job starts is therefore the remains of a killed run. (After ``snakemake --unlock`` this holds only if the
    killed run's jobs are really gone, for example cancelled on a cluster; the README says so.)
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_temporaries(path):
            _remove(stale)
        prefix = f".{path.name}.tmp-"
        if directory:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
        handle, name = tempfile.mkstemp(prefix=prefix, dir=path.parent)
        os.close(handle)
        return Path(name)
    except OSError as error:
        raise LinguaFrancaError(f"cannot write {path}: {unwritable_reason(path) or error.strerror}") from None


def unwritable_reason(path: str | os.PathLike) -> str | None:
    """Why ``path`` could not be created, or None when it could: its nearest existing ancestor must be a folder
    that this user may write to.

    Checked before any job starts (see the Snakefile's ``onstart``), so that a read-only folder, or a file where a
    folder is needed, stops the run with one message instead of a traceback from the job and Snakemake's cleanup.
    """
    ancestor = Path(os.path.abspath(path)).parent
    while not os.path.lexists(ancestor):
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a folder (a file is in the way); move it away"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return (
            f"the folder {ancestor} is not writable (its permissions, or a read-only file system); "
            "make it writable, or run in another folder with --directory"
        )
    return None


def check_writable(paths: Iterable[str | os.PathLike]) -> None:
    """Raise one :class:`LinguaFrancaError` naming the first of ``paths`` that cannot be created, and why."""
    seen = set()
    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        if folder in seen:
            continue
        seen.add(folder)
        reason = unwritable_reason(path)
        if reason:
            raise LinguaFrancaError(f"cannot write {path}: {reason}")


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
    except OSError as error:
        _settle_background_writes()
        _remove(temporary)
        if not _while_writing(error, temporary):
            raise
        raise LinguaFrancaError(f"cannot write {final}: {_os_reason(error, final)}") from None
    except BaseException:
        _settle_background_writes()
        _remove(temporary)
        raise


#: How long an interrupted job waits for zarr's writes in flight before it removes its temporary anyway.
SETTLE_TIMEOUT_S = 30.0


def _settle_background_writes(timeout: float = SETTLE_TIMEOUT_S) -> None:
    """Wait until zarr's I/O thread has no write in flight.

    Zarr runs its reads and writes on an event loop in a thread of its own. Ctrl-C (or any error) reaches the main
    thread while that loop may still be writing chunks of the temporary, and a write that lands after the removal
    re-creates the folder, which then survives the interrupted job. Waiting for the loop's tasks first closes that
    race; nothing to do when zarr was never used.
    """
    sync = sys.modules.get("zarr.core.sync")
    loop = sync.loop[0] if sync is not None else None
    if loop is None or loop.is_closed() or not loop.is_running():
        return

    async def in_flight() -> None:
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        if tasks:
            await asyncio.wait(tasks)

    try:
        asyncio.run_coroutine_threadsafe(in_flight(), loop).result(timeout)
    except concurrent.futures.TimeoutError:
        pass


#: OS errors that only writing causes: the disk or quota is full, the file too large, the file system read-only.
_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _while_writing(error: OSError, temporary: Path) -> bool:
    """Whether ``error`` came from writing the output (a full disk, or any OS error on the temporary's files), not
    from reading an input inside the ``with`` block. HDF5 reports the errno only in its message."""
    if error.errno in _WRITE_ERRORS or "No space left on device" in str(error):
        return True
    return bool(error.filename) and str(error.filename).startswith(str(temporary))


def _os_reason(error: OSError, final: Path) -> str:
    """The cause in words, and the fix where there is one."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in str(error):
        return (
            f"no space left on the device (or quota) of {final.parent}; free some (df -h {final.parent}) and run "
            "the same snakemake command again"
        )
    return error.strerror or str(error)


@contextlib.contextmanager
def scratch_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a private folder beside ``path`` for work that leaves no output of its own (a GGUF to convert), removed
    on exit.

    It is named as ``path``'s temporaries are (``.{name}.tmp-XXXXXXXX``), so the next run removes what a killed
    one left, as it does for outputs; ``path`` itself is never written.
    """
    folder = _temporary_sibling(Path(path), directory=True)
    try:
        yield folder
    finally:
        _remove(folder)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically, UTF-8."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
