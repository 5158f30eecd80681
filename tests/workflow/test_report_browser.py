"""The HTML report as a reader sees it: opened in a real headless Chromium, clicked through, looked at.

Screenshots go to the folder in LINGUAFRANCA_SCREENS (the test's own folder when unset), to be looked at by a person.
"""

import base64
import os
from pathlib import Path

import pytest

from linguafranca.io.tsv import read_tsv
from tests.helpers.browser import Browser, install_chromium
from tests.helpers.html import shown
from tests.helpers.workflow import snakemake

#: The report's categories in the paper's order, then the stages beyond it (as the tiny run has them).
PAPER_ORDER = [
    "1. Similarity (paper 3.1-3.2)",
    "2. Key linguistic regions (paper 3.3)",
    "3. Deactivation (paper 4.3, Table 1)",
    "4. Generation with a region off (Appendix A)",
    "5. Cross-lingual reasoning (lm-eval, Appendix B)",
]

MENU_CATEGORIES = """[...document.querySelectorAll("a")]
    .map(a => a.innerText.trim()).filter(text => /^\\d+\\. /.test(text))"""

SHOWN_IMAGE = """(() => {
    const image = [...document.images].find(i => i.src.startsWith("data:image/png"));
    if (!image || !image.complete || !image.naturalWidth) return false;
    const box = image.getBoundingClientRect();
    return {src: image.src, width: box.width, height: box.height, top: box.top, left: box.left};
})()"""


@pytest.fixture
def browser(tmp_path):
    binary = install_chromium(tmp_path / "apt.log")
    if binary is None:
        pytest.skip("no Chromium on the PATH (chromium, chromium-browser or google-chrome), and it could not be "
                    "installed here (that needs root and apt-get); on Debian: apt-get install -y chromium")
    with Browser(binary, tmp_path / "profile") as opened:
        yield opened


@pytest.mark.browser
def test_the_report_shows_the_config_table_1_and_figure_2_in_a_browser(finished_run, browser, tmp_path):
    workdir, config, code = finished_run
    report = tmp_path / "report.html"
    run = snakemake(workdir, code, "--configfile", str(config), "--report", str(report))
    assert run.returncode == 0, run.stderr[-3000:]
    screens = Path(os.environ.get("LINGUAFRANCA_SCREENS", tmp_path / "screens"))

    browser.open(report.as_uri())
    browser.wait_for("document.body.innerText.includes('1. Similarity')")
    page = browser.evaluate("document.body.innerText")
    assert "languages: en, fr, zh" in page and '"random_fraction": 0.25' in page  # the configuration that ran
    assert browser.evaluate(MENU_CATEGORIES) == PAPER_ORDER  # the menu as drawn, top to bottom
    browser.screenshot(screens / "report_start.png")

    browser.click_text(PAPER_ORDER[2])
    browser.click_text("Table 1: perplexity increase")
    browser.click_view()
    table = browser.frame_text()
    tsv = "results/tiny/main/held_out/ablation/regions-toy/z1/perplexity_increase.tsv"
    rows = read_tsv(workdir / tsv)
    zh_without_zh = shown(next(row for row in rows if row["lang"] == "zh")["zh"])
    assert "Table 1: perplexity increase (%): tiny @ main on held_out" in table
    assert "\t".join(rows[0]) in table  # the header row, on the page
    assert zh_without_zh in table.split()  # a cell, as the page shows it for reading
    browser.screenshot(screens / "report_table1.png")

    browser.click_text("Results")
    browser.click_text(PAPER_ORDER[0])
    browser.click_text("Fig. 2: similarity map")
    browser.click_view()
    image = browser.wait_for(SHOWN_IMAGE)
    png = (workdir / "results/tiny/main/toy/figures/similarity.png").read_bytes()
    assert base64.b64decode(image["src"].split("base64,", 1)[1]) == png  # Figure 2 itself
    width, height = browser.size
    assert image["width"] > 300 and image["height"] > 150  # drawn at a readable size
    assert 0 <= image["left"] < width and 0 <= image["top"] < height  # inside the window
    browser.screenshot(screens / "report_figure2.png")
