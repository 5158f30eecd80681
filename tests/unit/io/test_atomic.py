"""Atomic writes: temporaries of a killed job are removed when the output is written again; unwritable folders
are named in one message."""

import os

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
