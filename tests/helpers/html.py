"""The cells of an HTML table page as a browser reads them, for tests of linguafranca.io.html_table's pages."""

from html.parser import HTMLParser

from linguafranca.io.html_table import readable


class Cells(HTMLParser):
    """The text of every th and td, row by row, as a browser would read it (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.title = ""
        self.tooltips: dict[tuple[int, int], str] = {}  # (row, column): the cell's title attribute
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        if tag in ("th", "td", "title"):
            self._in = tag
            if tag != "title":
                self.rows[-1].append("")
                if (tooltip := dict(attrs).get("title")) is not None:
                    self.tooltips[len(self.rows) - 1, len(self.rows[-1]) - 1] = tooltip

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in:
            self.rows[-1][-1] += data

    @property
    def exact(self) -> list[list[str]]:
        """The rows with each cell's tooltip in place of its text where it has one: the full-precision table."""
        return [[self.tooltips.get((r, c), text) for c, text in enumerate(row)] for r, row in enumerate(self.rows)]


def shown(cell: str) -> str:
    """What a table page shows of a TSV cell: linguafranca.io.html_table.readable's text."""
    value = readable(cell)
    return value[0] if isinstance(value, tuple) else value


def cells(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser
