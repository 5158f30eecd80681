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


def _rows(block: str) -> dict[str, list[str]]:
    """A block's Markdown table as {first cell: the other cells}."""
    return {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in block.splitlines() if line.startswith("|") and not line.startswith("|---")}


def test_methods_blocks_quote_the_run_methods_table_and_table1(finished_run):
    run = tiny_run(finished_run)
    rows = {(row["method"], row["lang"]): row for row in read_tsv(run.path(paths.METHODS_TABLE))}
    langs = run.config["languages"]
    sizes = _rows(make_results.block_methods(run))
    for method in ("zscore", "lape", "ap"):
        assert sizes[method][: len(langs) + 1] == [f"{int(rows[method, lang]['size']):,}" for lang in [*langs, "all"]]
    jaccard = _rows(make_results.block_jaccard(run))
    assert jaccard["zscore – ap"][0] == f"{float(rows['zscore', langs[0]]['jaccard_ap']):.3f}"
    increase = {row["lang"]: row for row in read_tsv(run.path(paths.INCREASE, dataset="held_out"))}
    table1 = [line.split("|")[1:-1] for line in make_results.block_methods_table1(run).splitlines()[2:]]
    ap_first = next(cells for cells in table1 if cells[0].strip() == "ap" and cells[1].strip() == langs[0])
    assert ap_first[3].strip() == make_results.increase(increase[langs[0]][f"ap_{langs[0]}"])
    assert f"({langs[1]})" in ap_first[4]  # evaluated on its own language and the next
    shares = {(row["method"], row["forced_lang"]): row for row in read_tsv(run.path(paths.FORCED_LANGUAGE))}
    forcing = _rows(make_results.block_forcing(run))
    value = shares["ap", langs[0]]["share_forced"]
    assert forcing["ap forced"][0] == (value if value in ("n/a", "empty") else f"{float(value):.2f}")
