"""Atomic writes: temporaries of a killed job are removed when the output is written again; unwritable folders
are named in one message."""

import errno
import os
import re

import pytest

from linguafranca.errors import LinguaFrancaError
from linguafranca.io.atomic import atomic_path, check_writable, stale_temporaries, unwritable_reason, write_text


def test_a_killed_jobs_temporaries_are_removed_when_the_output_is_written_again(tmp_path):
    final = tmp_path / "en.zarr"
    stale_dir = tmp_path / ".en.zarr.tmp-ab12_xyz"
    (stale_dir / "mean").mkdir(parents=True)
    (stale_dir / "mean" / "c.0.0").write_bytes(b"partial")
    stale_file = tmp_path / ".en.zarr.tmp-00000000"
    stale_file.write_bytes(b"partial")
    # Not temporaries of en.zarr: other outputs, another output's temporary, names that only look alike.
    others = [
        tmp_path / "fr.zarr",
        tmp_path / ".fr.zarr.tmp-ab12_xyz",
        tmp_path / ".en.zarr.tmp-short",
        tmp_path / ".en.zarr.tmp-ab12_xyz9",
        tmp_path / ".en.zarr.tmp-x.tmp-ab12_xyz",  # the temporary of an output named en.zarr.tmp-x
        tmp_path / "en.zarr.tmp-ab12_xyz",
    ]
    for path in others:
        path.mkdir()
    assert stale_temporaries(final) == sorted([stale_file, stale_dir])

    with atomic_path(final, directory=True) as temporary:
        assert temporary.name.startswith(".en.zarr.tmp-") and temporary.is_dir()
        assert stale_temporaries(final) == [temporary]  # the stale ones are gone before the job writes
        (temporary / "zarr.json").write_text("{}")
    assert not stale_dir.exists() and not stale_file.exists()
    assert (final / "zarr.json").read_text() == "{}"
    assert all(path.is_dir() for path in others)
    assert stale_temporaries(final) == []


def test_file_outputs_clear_their_own_temporaries_only(tmp_path):
    stale = tmp_path / ".metrics.tsv.tmp-qwertyui"
    stale.write_text("half a table")
    neighbour = tmp_path / ".similarity.h5.tmp-qwertyui"
    neighbour.write_text("another job's temporary")
    write_text(tmp_path / "metrics.tsv", "layer\tlrds\n")
    assert not stale.exists() and neighbour.read_text() == "another job's temporary"
    assert (tmp_path / "metrics.tsv").read_text() == "layer\tlrds\n"


def test_a_failed_write_leaves_neither_output_nor_temporary(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.tsv") as temporary:
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_way_of_a_folder_is_named(tmp_path):
    (tmp_path / "results").write_text("not a folder")
    target = tmp_path / "results" / "tiny" / "main" / "similarity.h5"
    assert unwritable_reason(target) == f"{tmp_path / 'results'} is not a folder (a file is in the way); move it away"
    with pytest.raises(LinguaFrancaError, match=r"^cannot write .*similarity\.h5: .*results is not a folder"):
        check_writable([tmp_path / "fine" / "a.tsv", target])
    with pytest.raises(LinguaFrancaError, match=r"^cannot write .*similarity\.h5: .*results is not a folder"):
        write_text(target, "x")
    assert unwritable_reason(tmp_path / "fine" / "deeper" / "a.tsv") is None
    check_writable([tmp_path / "fine" / "a.tsv", tmp_path / "b.tsv"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders, so chmod cannot make one here")
def test_a_read_only_folder_is_named(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o555)
    try:
        target = results / "tiny" / "metrics.tsv"
        with pytest.raises(LinguaFrancaError, match=rf"^cannot write .*metrics\.tsv: the folder {results} is not "):
            check_writable([target])
        with pytest.raises(LinguaFrancaError, match=rf"the folder {results} is not writable"):
            write_text(target, "x")
    finally:
        results.chmod(0o755)


@pytest.mark.parametrize("directory", [False, True])
def test_a_full_disk_names_the_output_and_leaves_no_temporary(tmp_path, directory):
    final = tmp_path / "out" / ("en.zarr" if directory else "metrics.tsv")
    with pytest.raises(LinguaFrancaError, match=rf"^cannot write {re.escape(str(final))}: no space left on the device "
                                                rf"\(or quota\) of {re.escape(str(final.parent))}; free some"):
        with atomic_path(final, directory=directory) as temporary:
            chunk = temporary / "c" if directory else temporary
            raise OSError(errno.ENOSPC, "No space left on device", str(chunk))
    assert list(final.parent.iterdir()) == []


def test_an_os_error_reading_an_input_is_not_taken_for_a_write_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "out.tsv"):
            (tmp_path / "missing-input.jsonl").read_text()
    assert list(tmp_path.iterdir()) == []


def test_any_os_error_on_the_temporary_names_the_output(tmp_path):
    final = tmp_path / "similarity.h5"
    with pytest.raises(LinguaFrancaError, match=rf"^cannot write {re.escape(str(final))}: Input/output error$"):
        with atomic_path(final) as temporary:
            raise OSError(errno.EIO, "Input/output error", str(temporary))


def test_a_store_that_outgrows_the_file_size_limit_stops_with_one_line(tmp_path):
    """A real write error inside zarr (its chunk writes run in zarr's own thread): a 1 MB file size limit makes a
    4 MB chunk fail with EFBIG, as a full disk fails with ENOSPC."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import resource, signal, sys
        import numpy as np
        from linguafranca.errors import LinguaFrancaError
        from linguafranca.io.activations import activation_writer

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
        try:
            with activation_writer(sys.argv[1], 4, 1, 2**18, 4, 8) as writer:
                writer.write(0, np.random.default_rng(0).random((4, 1, 2**18)), np.ones(4, dtype=np.int32),
                             np.zeros((4, 1, 2**18), dtype=np.uint16))
        except LinguaFrancaError as error:
            print(error)
        """
    )
    store = tmp_path / "en.zarr"
    run = subprocess.run([sys.executable, "-c", script, str(store)], capture_output=True, text=True)
    assert run.stdout.startswith(f"cannot write {store}: File too large"), run.stdout + run.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_waits_for_zarr_writes_in_flight_before_removing_the_temporary(tmp_path):
    """Ctrl-C reaches the main thread while zarr's I/O thread is still writing chunks; a chunk written after the
    removal would re-create the temporary folder, and it would survive the interrupted job."""
    import asyncio

    import zarr.core.buffer
    import zarr.core.sync
    import zarr.storage

    async def late_chunk(folder):
        await asyncio.sleep(0.3)  # still writing when the interrupt arrives
        store = await zarr.storage.LocalStore.open(folder)
        await store.set("mean/c/0/0/0", zarr.core.buffer.default_buffer_prototype().buffer.from_bytes(b"x" * 64))

    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "en.zarr", directory=True) as temporary:
        write = asyncio.run_coroutine_threadsafe(late_chunk(temporary), zarr.core.sync._get_loop())
        raise KeyboardInterrupt
    write.result(timeout=10)
    assert not temporary.exists() and list(tmp_path.iterdir()) == []
