"""The cells of an HTML table page as a browser reads them, for tests of linguafranca.io.html_table's pages."""

from html.parser import HTMLParser


class Cells(HTMLParser):
    """The text of every th and td, row by row, as a browser would read it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        if tag in ("th", "td", "title"):
            self._in = tag
            if tag != "title":
                self.rows[-1].append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in:
            self.rows[-1][-1] += data


def cells(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser
