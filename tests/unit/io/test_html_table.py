"""The HTML page of a table, which the report shows on the page instead of offering the TSV as a download."""

from linguafranca.io.html_table import table_page, write_table_page, write_tsv_page
from linguafranca.io.tsv import write_tsv
from tests.helpers.html import cells


def test_the_header_is_the_head_row_and_cells_follow_in_order():
    html = table_page("Table 1: tiny", ["lang", "none", "en"], [["en", "0.0", "12.5"], ["fr", "-1.25", "3"]])
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert "<thead><tr><th>lang</th><th>none</th><th>en</th></tr></thead>" in html
    assert cells(html).rows == [["lang", "none", "en"], ["en", "0.0", "12.5"], ["fr", "-1.25", "3"]]
    assert cells(html).title == "Table 1: tiny"


def test_cells_and_title_are_escaped_so_text_cannot_become_markup():
    prompt = '<script>alert("x")</script> & <b>'
    html = table_page("a <b> & c", ["prompt"], [[prompt]], source="<x>.tsv")
    assert "<script>" not in html and "<b>" not in html and "<x>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert cells(html).rows == [["prompt"], [prompt]]
    assert cells(html).title == "a <b> & c"


def test_a_tsv_page_shows_numbers_for_reading_with_every_digit_in_the_tooltip(tmp_path):
    tsv, page = tmp_path / "perplexity_increase.tsv", tmp_path / "perplexity_increase.html"
    rows = [{"lang": "en", "none": 0.0, "en": 1215563.9999999998, "zh": 1e-05, "size": 26079},
            {"lang": "zh", "none": 0.03419961228381396, "en": -0.1, "zh": 74552.5, "size": float("nan")}]
    write_tsv(tsv, rows, ["lang", "none", "en", "zh", "size"])
    write_tsv_page(tsv, page, "Table 1")
    html = cells(page.read_text(encoding="utf-8"))
    assert html.rows == [["lang", "none", "en", "zh", "size"], ["en", "0", "1,215,564", "1e-05", "26079"],
                         ["zh", "0.0342", "-0.1", "74,552", "nan"]]
    # Every digit the TSV holds is the tooltip of a cell shown shorter; cells shown as written have none.
    assert html.tooltips == {(1, 1): "0.0", (1, 2): "1215563.9999999998", (2, 1): "0.03419961228381396",
                             (2, 3): "74552.5"}
    assert "<code>perplexity_increase.tsv</code>" in page.read_text(encoding="utf-8")  # names the numbers' file
    assert not list(tmp_path.glob(".*tmp-*"))  # written atomically, no temporary left


def test_a_table_with_no_rows_keeps_its_header_and_unicode_text(tmp_path):
    tsv, page = tmp_path / "empty.tsv", tmp_path / "empty.html"
    write_tsv(tsv, [], ["lang", "SKLR"])
    write_tsv_page(tsv, page, "SKLR")
    assert cells(page.read_text(encoding="utf-8")).rows == [["lang", "SKLR"]]
    write_table_page(page, "Continuations", ["lang", "continuation"], [["zh", "北京是中国的首都\n第二行"]])
    continuation = "北京是中国的首都\n第二行"
    assert cells(page.read_text(encoding="utf-8")).rows == [["lang", "continuation"], ["zh", continuation]]
