"""Faults and bad inputs: kills, damaged stores, unwritable folders and foreign models stop or recover as documented."""

import os
import re

import numpy as np
import pytest
import zarr

from tests.helpers.paths import REPO
from tests.helpers.workflow import (
    LANGS,
    arrays,
    copy_of_run,
    kill_during_capture,
    snakemake,
    with_threshold,
    write_config,
)


def test_empty_region_is_a_warning_in_the_log_and_on_stderr(finished_run, tmp_path):
    """Just below the bound sqrt(2) of three languages, regions are (all but surely) empty: say so."""
    _, config, code = finished_run
    workdir = copy_of_run(finished_run, tmp_path)
    target = "results/tiny/main/toy/regions/z1.4142.zarr"
    run = snakemake(workdir, code, "--configfile", str(with_threshold(config, 1.4142)), "--cores", "1",
                    f"{target}/zarr.json")  # a store is asked for by its zarr.json, the file its rule declares
    assert run.returncode == 0, run.stderr[-3000:]
    mask = zarr.open_group(str(workdir / target), mode="r")["mask"][:]
    empty = [lang for lang, region in zip(LANGS, mask) if not region.any()]
    assert empty
    message = f"no neuron has a z-score above threshold 1.4142 for {', '.join(empty)}"
    assert f"linguafranca: warning: {message}" in run.stderr
    assert message in (workdir / "results/logs/tiny/main/regions/toy_z1.4142.log").read_text()


def test_a_model_that_is_no_causal_lm_stops_at_resolve_model(tmp_path):
    import transformers

    config = transformers.T5Config(d_model=8, d_ff=16, num_layers=1, num_heads=1, d_kv=8, vocab_size=50)
    config.architectures = ["T5ForConditionalGeneration"]
    config.save_pretrained(tmp_path / "t5")
    run = snakemake(tmp_path, REPO, "--configfile", str(write_config(tmp_path, tmp_path / "t5")), "--cores", "1", "all")
    assert run.returncode != 0
    message = (f"model '{tmp_path / 't5'}' revision 'main': {tmp_path / 't5' / 'config.json'} describes model_type "
               "'t5' (T5ForConditionalGeneration), which is not a causal language model linguafranca supports")
    assert message in run.stderr
    assert message in (tmp_path / "results/logs/tiny/main/resolve_model.log").read_text()
    assert not (tmp_path / "resources/models").exists() or not list((tmp_path / "resources/models").rglob("*.json"))
    assert not (tmp_path / "results/tiny").exists()  # no capture ran


def test_damaged_store_fails_the_job_and_the_message_rebuilds_it(finished_run, tmp_path):
    """Delete one chunk of an activation store: the regions job stops with the message (Zarr alone would read the
    fill value and exit 0), and doing what the message says restores the same regions."""
    import shutil

    source, config, code = finished_run
    workdir = tmp_path / "copy"
    shutil.copytree(source, workdir, symlinks=True)  # keeps mtimes, so Snakemake sees a finished run
    base = workdir / "results/tiny/main/toy"
    store = "results/tiny/main/toy/activations/en.zarr"  # Snakemake hands jobs paths relative to --directory
    before = zarr.open_group(str(base / "regions/z1.zarr"), mode="r")["mask"][...]
    (workdir / store / "mean/c/0/1/0").unlink()
    target = "results/tiny/main/toy/regions/z1_sklr.tsv"
    command = ["--configfile", str(config), "--cores", "2", "--forcerun", "regions", target]

    run = snakemake(workdir, code, *command)
    assert run.returncode != 0
    log = (workdir / "results/logs/tiny/main/regions/toy_z1.log").read_text()
    assert f"activation store '{store}' is damaged: chunk 'mean/c/0/1/0' (sample 0-3, layer 1, neuron 0-23) is " \
           f"missing. Rebuild it: delete it (rm -r '{store}') and run the same snakemake command again" in log
    assert not (base / "regions/z1.zarr/zarr.json").exists()  # Snakemake removed the declared file: no store

    shutil.rmtree(workdir / store)  # what the message says: delete it and run the same command again
    run = snakemake(workdir, code, *command)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "capture" in run.stdout + run.stderr
    np.testing.assert_array_equal(zarr.open_group(str(base / "regions/z1.zarr"), mode="r")["mask"][...], before)


def test_another_models_store_copied_in_stops_similarity_naming_it(finished_run, tmp_path):
    """Another model's en.zarr under the same short name (other weights): the similarity job stops with one line
    naming the store and the differing key, instead of comparing it with the other languages."""
    import shutil

    source, config, code = finished_run
    workdir = tmp_path / "copy"
    shutil.copytree(source, workdir, symlinks=True)
    store = "results/tiny/main/toy/activations/en.zarr"
    group = zarr.open_group(str(workdir / store), mode="r+")
    weights = group.attrs["weights"]
    group.attrs["weights"] = "sha256:" + "0" * 64
    run = snakemake(workdir, code, "--configfile", str(config), "--cores", "2", "--forcerun", "similarity",
                    "results/tiny/main/toy/metrics.tsv")
    assert run.returncode != 0
    log = (workdir / "results/logs/tiny/main/similarity/toy.log").read_text()
    assert (f"{store} (language 'en') has weights 'sha256:{'0' * 64}' but this job (its wildcards and "
            f"resources/models/tiny/main/manifest.json) has {weights!r}: it was made from other weights or settings") \
        in log, log[-2000:]


def test_a_run_killed_during_capture_recovers_as_the_readme_says(finished_run, tmp_path):
    reference, config, code = finished_run  # the same config: the same model and texts, by absolute path
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "snakemake --unlock" in readme and "rerun-incomplete: true" in (
        REPO / "profiles/default/config.yaml").read_text()
    for attempt in range(3):
        workdir = tmp_path / f"attempt{attempt}"
        workdir.mkdir()
        orphan = kill_during_capture(workdir, code, config)
        if orphan is not None:
            break
    else:
        pytest.fail("three runs ended, or renamed their store, before a capture job could be killed mid-write")
    store = orphan.parent / orphan.name[1:].split(".tmp-")[0]
    # The rule declares the store's zarr.json (Snakemake makes the empty store folder, its parent, at job start).
    assert not (store / "zarr.json").exists(), "the killed job's store must not look finished"
    # A kill can also land after the store was renamed into place but before Snakemake recorded the job as done.
    # Stand in for that case: the store exists, and Snakemake's incomplete marker (set at job start) is on it.
    store.mkdir(exist_ok=True)
    (store / "zarr.json").write_text("{}")

    stuck = snakemake(workdir, code, "--configfile", str(config), "--cores", "2", "all")
    assert stuck.returncode != 0 and "Directory cannot be locked" in stuck.stdout + stuck.stderr
    unlock = snakemake(workdir, code, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    without_profile = snakemake(workdir, code, "--configfile", str(config), "--workflow-profile", "none", "-n", "all")
    assert "IncompleteFilesException" in without_profile.stdout + without_profile.stderr  # what the profile fixes

    recovered = snakemake(workdir, code, "--configfile", str(config), "--cores", "2", "all")
    assert recovered.returncode == 0, recovered.stderr[-3000:]
    assert re.search(r"Using workflow specific profile \S*profiles/default for", recovered.stderr)  # from any cwd
    assert not orphan.exists()
    assert [p for p in (workdir / "results").rglob("*") if ".tmp-" in p.name] == []
    assert [p for p in (workdir / "resources").rglob("*") if ".tmp-" in p.name] == []
    expected, got = arrays(reference / "results"), arrays(workdir / "results")
    assert sorted(got) == sorted(expected) and len(expected) >= 10  # activations, similarity, regions
    for name, (array, attrs) in expected.items():
        assert got[name][0].dtype == array.dtype and got[name][0].shape == array.shape, name
        assert np.array_equal(got[name][0], array, equal_nan=array.dtype.kind == "f"), name
        assert got[name][1] == attrs, name
    for table in sorted((reference / "results").rglob("*.tsv")):
        if "benchmarks" not in table.parts:
            assert (workdir / "results" / table.relative_to(reference / "results")).read_text() == table.read_text()


def test_a_file_where_a_folder_belongs_stops_the_run_with_one_message(finished_run, tmp_path):
    _, config, code = finished_run
    blocker = tmp_path / "results/tiny/main/toy/figures"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    run = snakemake(tmp_path, code, "--configfile", str(config), "--cores", "2", "all")
    assert run.returncode != 0
    assert re.search(r"^linguafranca: cannot write results/tiny/main/toy/figures/\S+: \S+/results/tiny/main/toy/"
                     r"figures is not a folder \(a file is in the way\); move it away$", run.stderr, re.M), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert not (tmp_path / "resources").exists() and blocker.read_text() == "not a folder"  # no job ran
    assert not list((tmp_path / ".snakemake" / "locks").glob("*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders, so chmod cannot make one here")
def test_a_read_only_results_folder_stops_the_run_with_one_message(finished_run, tmp_path):
    _, config, code = finished_run
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o555)
    try:
        run = snakemake(tmp_path, code, "--configfile", str(config), "--cores", "2", "all")
    finally:
        results.chmod(0o755)
    assert run.returncode != 0
    assert re.search(rf"^linguafranca: cannot write results/\S+: the folder {re.escape(str(results))} is not writable",
                     run.stderr, re.M), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
