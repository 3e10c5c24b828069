"""Reading the dashboard's tables and the admin index out of the HTML, as a reader would."""

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.days: dict[str, list[str]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("data-testid"):
            self._table = attrs["data-testid"]
            self.tables[self._table] = []
            self.days[self._table] = []
        elif self._table and tag == "tr":
            self._row = []
            if attrs.get("data-day"):
                self.days[self._table].append(attrs["data-day"])
        elif self._row is not None and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


def rows_by_day(html: str, table: str) -> dict[str, list[str]]:
    """{"2026-11-30": ["3", "2", "1"], …}: a per-day table's figures (the day's label dropped),
    body rows only."""
    parsed = tables_of(html)
    body = parsed.tables[table][1:]  # the first row is the head
    return {day: row[1:] for day, row in zip(parsed.days[table], body, strict=True)}


class _AdminIndex(HTMLParser):
    """The app sections (captions) and model rows of the admin index."""

    def __init__(self):
        super().__init__()
        self.sections: list[str] = []
        self.models: list[str] = []
        self._in_caption = False
        self._in_model = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "caption":
            self._in_caption, self._text = True, []
        elif tag == "th" and attrs.get("scope") == "row":
            self._in_model, self._text = True, []

    def handle_endtag(self, tag):
        if tag == "caption" and self._in_caption:
            self.sections.append(" ".join("".join(self._text).split()))
            self._in_caption = False
        elif tag == "th" and self._in_model:
            self.models.append(" ".join("".join(self._text).split()))
            self._in_model = False

    def handle_data(self, data):
        if self._in_caption or self._in_model:
            self._text.append(data)


def admin_index_of(html: str) -> _AdminIndex:
    parser = _AdminIndex()
    parser.feed(html)
    return parser
