"""docs/make_results.py on a real run's files: each block reads the stores and tables where the workflow writes them.

The unit tests of tests/test_make_results.py rewrite pages from stand-in blocks; these run the real blocks on the
tiny workflow's outputs, so that a moved or renamed output (a store declared by its ``zarr.json``, say) fails here
instead of in the hands of whoever regenerates the docs.
"""

import importlib.util
import sys

import zarr
import yaml

from linguafranca.io.tsv import read_tsv
from linguafranca.pipeline import paths
from linguafranca.pipeline.config import threshold_tag, validate
from tests.helpers.paths import REPO

spec = importlib.util.spec_from_file_location("make_results", REPO / "docs/make_results.py")
make_results = importlib.util.module_from_spec(spec)
sys.modules["make_results"] = make_results  # dataclasses look their module up
spec.loader.exec_module(make_results)


def tiny_run(finished_run) -> "make_results.Run":
    workdir, config, _ = finished_run
    values = validate(yaml.safe_load(config.read_text()))
    return make_results.Run(workdir, values, "tiny", "main", "toy", "held_out",
                            threshold_tag(values["regions"]["threshold"]))


def test_regions_block_counts_the_run_regions_store(finished_run):
    run = tiny_run(finished_run)
    block = make_results.block_regions(run)
    store = zarr.open_group(paths.store_of(run.path(paths.REGIONS)), mode="r")
    order = list(store.attrs["langs"])
    significant = store["significant"][...].reshape(len(order), -1).sum(axis=1)
    total = next(row for row in read_tsv(run.path(paths.SKLR)) if row["layer"] == "total")
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in block.splitlines() if line.startswith("|")}
    key = rows[f"key neurons, z > {run.config['regions']['threshold']}"]
    assert key[:-1] == [f"{int(total[lang]):,}" for lang in run.config["languages"]]
    assert rows["significant (BH, q = 0.05)"][:-1] == [f"{int(significant[order.index(lang)]):,}"
                                                       for lang in run.config["languages"]]


def test_similarity_and_table1_blocks_quote_the_run_tables(finished_run):
    run = tiny_run(finished_run)
    whole = next(row for row in read_tsv(run.path(paths.METRICS)) if row["layer"] == "all")
    assert f"| {float(whole['lrds']):.3f} | {float(whole['sads']):.3f} |" in make_results.block_similarity(run)
    baseline = read_tsv(run.path(paths.BASELINE_PPL, dataset="held_out"))
    line = ", ".join(f"{row['lang']} {float(row['ppl']):.1f}" for row in baseline)
    assert f"Baseline perplexities (nothing switched off): {line}." in make_results.block_table1(run)
