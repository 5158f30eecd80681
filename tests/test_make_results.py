"""docs/make_results.py: the docs' run blocks are rewritten from a run's files, and --check sees stale pages."""

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_results", REPO / "docs/make_results.py")
make_results = importlib.util.module_from_spec(spec)
sys.modules["make_results"] = make_results  # dataclasses look their module up
spec.loader.exec_module(make_results)


def test_run_time_is_the_finished_run_from_nothing(tmp_path):
    """The finished run with the most jobs; an unfinished one is skipped, later smaller ones are counted apart."""
    logs = tmp_path / ".snakemake/log"
    logs.mkdir(parents=True)
    (logs / "2026-01-01T000000.snakemake.log").write_text("5 of 9 steps (56%) done\n")
    (logs / "2026-01-02T000000.snakemake.log").write_text("172 of 172 steps (100%) done\nElapsed time: 1:04:09.5\n")
    (logs / "2026-01-03T000000.snakemake.log").write_text("40 of 40 steps (100%) done\nElapsed time: 0:02:50.5\n")
    assert make_results.run_time(tmp_path) == ("64 min 9 s", 172)
    assert make_results.later_jobs(tmp_path) == 40


def test_blocks_between_markers_are_replaced_and_nothing_else(monkeypatch):
    monkeypatch.setitem(make_results.BLOCKS, "runtime", lambda run: "NEW\n")
    page = "before\n<!-- run:runtime -->\nOLD\n<!-- /run:runtime -->\nafter <!-- run:x --> untouched\n"
    assert make_results.rewrite(page, None) == "before\n<!-- run:runtime -->\nNEW\n<!-- /run:runtime -->\nafter <!-- run:x --> untouched\n"


def test_numbers_read_as_the_docs_print_them():
    assert [make_results.increase(t) for t in ("75326.4", "6.25", "-0.04", "n/a", "empty")] == [
        "75,326", "6.2", "−0.0", "n/a", "empty"]
    assert make_results.ratio("12119.2") == "12,119" and make_results.ratio("4.56") == "4.6"


def test_every_figure_the_script_ships_is_in_the_docs_and_shown_on_a_page():
    """Figures 5 and 6 were once discussed but not shipped: each figure make_results copies must be in docs/figures
    and embedded in a page (README or docs)."""
    pages = "".join(page.read_text() for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])
    for name in make_results.FIGURES:
        assert (REPO / "docs/figures" / name).read_bytes()[:4] == b"\x89PNG", name
        assert f"figures/{name})" in pages, name
    assert {"regions_layers.png", "regions_sizes.png"} <= set(make_results.FIGURES)  # Figures 5 and 6
