"""The HTML report holds every figure and table."""

import base64
import json
import re
from html import unescape

from tests.helpers.html import cells, shown
from tests.helpers.workflow import (
    FIGURES,
    report_results,
    snakemake,
)


def test_html_report_holds_every_figure_and_table(finished_run):
    workdir, config, code = finished_run
    report = workdir / "report.html"
    run = snakemake(workdir, code, "--configfile", str(config), "--report", str(report))
    assert run.returncode == 0, run.stderr[-3000:]
    html = report.read_text(encoding="utf-8")
    results, categories = report_results(html)
    toy, held_out = "results/tiny/main/toy", "results/tiny/main/held_out/ablation/regions-toy/z1"
    reasoning = "results/tiny/main/reasoning/regions-toy/z1"
    expected = {
        **{f"{toy}/figures/{figure}.png": "figure" for figure in FIGURES},
        f"{held_out}/perplexity_increase.png": "figure",
        **{f"{toy}/{table}.html": "table" for table in ("metrics", "regions/z1_sklr", "generations/z1",
                                                        "regions/z1_methods", "generations/z1_forced",
                                                        "generations/z1_forced_language")},
        f"{toy}/regions/z1_methods.png": "figure",
        **{f"{held_out}/{table}.html": "table"
           for table in ("perplexity", "perplexity_increase", "diagonal_dominance")},
        f"{reasoning}/accuracy.html": "table",
        f"{reasoning}/accuracy.png": "figure",
    }
    assert set(results) == set(expected)
    for path, entry in results.items():
        if path.startswith(reasoning):  # per (model, revision, regions source, threshold): no text dataset
            assert entry["labels"] == {"model": "tiny", "revision": "main", "regions": "toy", "threshold": "1"}, path
            assert "tiny &#64; main" in " ".join(entry["caption"].split()), path
            continue
        dataset = "held_out" if "held_out" in path else "toy"
        assert {k: entry["labels"][k] for k in ("model", "revision", "dataset")} == {
            "model": "tiny", "revision": "main", "dataset": dataset}, path
        assert entry["labels"].get("threshold") == (None if path.endswith(("metrics.html", "similarity.png",
                                                                           "lrds_sads.png")) else "1"), path
        caption = " ".join(entry["caption"].split())
        assert f"tiny &#64; main on {dataset}" in caption, path  # the caption, rendered with the job's wildcards
        embedded = base64.b64decode(entry["data_uri"].split("base64,", 1)[1])
        assert embedded == (workdir / path).read_bytes(), path  # the file itself, not a stale copy
        if expected[path] == "figure":
            assert entry["mime_type"] == "image/png", path
        else:  # shown on the page, not offered as a download
            assert entry["mime_type"] == "text/html", path
    placed = {path: (category, sub) for category, subs in categories.items() for sub, paths in subs.items()
              for path in paths}
    assert placed[f"{toy}/figures/similarity.png"] == ("1. Similarity (paper 3.1-3.2)", "Fig. 2: similarity map")
    assert placed[f"{toy}/figures/regions_z1_sizes.png"] == ("2. Key linguistic regions (paper 3.3)",
                                                            "Fig. 6: region sizes")
    assert placed[f"{held_out}/perplexity_increase.html"] == ("3. Deactivation (paper 4.3, Table 1)",
                                                            "Table 1: perplexity increase")
    def caption(path: str) -> str:
        """A caption's text as the page shows it: tags dropped, entities decoded, spaces collapsed."""
        return " ".join(unescape(re.sub(r"<[^>]+>", "", results[path]["caption"])).split())

    # Captions say what the figure and the tables draw now: the diverging log scale, region sizes in the column
    # labels, blank and empty cells, the size-matched controls.
    heatmap = caption(f"{held_out}/perplexity_increase.png")
    assert "centred on no change (red: perplexity rises, blue: it falls)" in heatmap
    assert "column label gives the region's size as a percentage of all neurons" in heatmap
    assert "A blank cell was not evaluated" in heatmap
    assert "size-matched random control random_{lang}" in caption(f"{held_out}/perplexity.html")
    assert "languages: en, fr, zh" in html  # the workflow description, rendered with the run's config
    assert list(categories) == sorted(categories) and all(name[0].isdigit() for name in categories)  # paper order
    assert "&quot;random_fraction&quot;: 0.25" in html or '"random_fraction": 0.25' in html  # the whole config
    assert not list((workdir / "results").rglob(".*.tmp-*"))


def test_every_table_page_holds_its_tsv_cell_for_cell(finished_run):
    """The page the report shows beside each TSV has the TSV's header and every cell: for reading, and as written
    in the cell's tooltip wherever the two differ."""
    workdir, _, _ = finished_run
    pages = sorted((workdir / "results").rglob("*.html"))
    tsvs = [page.with_suffix(".tsv") for page in pages if page.with_suffix(".tsv").exists()]
    assert len(tsvs) == 8, pages  # metrics, SKLR, methods, perplexity, Table 1, dominance, accuracy, forced language
    for tsv in tsvs:
        rows = [line.split("\t") for line in tsv.read_text(encoding="utf-8").splitlines()]
        page = cells(tsv.with_suffix(".html").read_text(encoding="utf-8"))
        assert page.exact == rows, tsv
        assert page.rows == [rows[0], *[[shown(cell) for cell in row] for row in rows[1:]]], tsv
    generations = workdir / "results/tiny/main/toy/generations"
    records = [json.loads(line) for line in (generations / "z1.jsonl").read_text(encoding="utf-8").splitlines()]
    continuations = cells((generations / "z1.html").read_text(encoding="utf-8")).rows
    assert continuations == [list(records[0]), *[list(record.values()) for record in records]]  # continuations: text as is
