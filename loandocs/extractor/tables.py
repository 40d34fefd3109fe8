"""Table reconstruction from positioned text (OCR lines or PDF text-layer lines alike).

Only words and their boxes are used, so ruled and unruled tables are read the same way. The
columns come from the header row: each header cell anchors a column, and the boundary between
two columns is the widest strip of the gap between their header cells that the body text
leaves empty. Body text goes to the column range it overlaps most, which serves left-aligned
text and right-aligned numbers alike. Multi-page statements repeat the header on each page;
the columns are re-anchored on every page's own header because scans of different pages are
never aligned the same way.

Pure: no OCR, no I/O.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from loandocs.extractor import columns
from loandocs.extractor.layout import Char, line_chars, normalize_text, union
from loandocs.extractor.ocr.base import OcrLine

Box = tuple[float, float, float, float]

# Rows that end the table body on a page: page footers and summary lines.
STOP = re.compile(r"第\s*\d+\s*页|共\s*\d+\s*页|合计|总计|期末余额|本页小计")
# A transaction's anchor cell that looks like a date is never a summary line, whatever the
# description says (a description may well contain 合计).
_DATEISH = re.compile(r"\d{4}\s*[-/.年]?\s*\d{1,2}")
# "(元)", "(RMB)" after a header label: a unit, dropped. Other words in brackets name the
# column ("记账金额(收入)") and are kept.
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
_UNIT = re.compile(r"[(\[](?:元|人民币|人民币元|RMB|CNY|¥|￥|YUAN)?[)\]]$", re.I)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z][A-Za-z./&\s]*")
_SPLIT_GAP = 0.6  # inside one line, a gap over this many char heights separates two cells (a word space is ~0.3)
_MAX_HEADER_EXTRA = 4  # a header cell may carry this many characters besides its cue word
_FAR_BELOW = 4.0  # a row this many line heights below the previous body row ends the body


@dataclass
class Cell:
    text: str
    bbox: Box | None
    confidence: float
    page: int


@dataclass
class Table:
    # The canonical key per column (a key of ``header_cues``) in left-to-right order; a column
    # whose header matches no cue keeps its normalised header text instead.
    header: list[str]
    columns: list[tuple[float, float]]  # x-range per column, on the first page with the header
    rows: list[list[Cell]]  # body rows, len(row) == len(header)
    pages: list[int]  # pages that contributed the header or rows, in order
    raw_header: list[str] = field(default_factory=list)  # header texts as printed (normalised)


@dataclass
class _Piece:
    text: str
    bbox: Box
    chars: list[Char]

    @property
    def x0(self) -> float:
        return self.bbox[0]

    @property
    def x1(self) -> float:
        return self.bbox[2]

    @property
    def confidence(self) -> float:
        # as layout.Span: the mean, capped at twice the weakest character
        scores = [c.score for c in self.chars] or [1.0]
        return min(sum(scores) / len(scores), 2 * min(scores))


@dataclass
class _Row:
    pieces: list[_Piece]
    y0: float
    y1: float

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces).replace(" ", "")


@dataclass
class _Layout:
    keys: list[str]
    raw: list[str]
    ranges: list[tuple[float, float]]
    pitch: float
    cells: list[tuple[float, float]]  # x extent of each header cell


@dataclass
class _BodyRow:
    cells: list[list[_Piece]]
    y0: float
    y1: float
    anchored: bool


def find_table(pages: list[tuple[int, list[OcrLine]]], header_cues: dict[str, list[str]],
               min_columns: int = 3) -> Table | None:
    """The table whose header row matches the most ``header_cues`` (at least ``min_columns``),
    followed across ``pages`` (in order, each with its own coordinates). None if no page has
    such a header."""
    cues = {k: [_clean_label(c) for c in v] for k, v in header_cues.items()}
    table: Table | None = None
    layout: _Layout | None = None
    for page_no, lines in pages:
        rows = _group_rows([p for ln in lines for p in _pieces(ln)])
        want = table.header if table is not None else None
        header_at = _find_header(rows, cues, min_columns, want)
        if header_at is not None:
            idx, layout = header_at
            keys = table.header if table is not None else layout.keys
            # body rows found with the rough columns tell where the true boundaries are
            layout = _refine(layout, _body(rows[idx + 1:], layout, keys, cues, min_columns))
            if table is None:
                table = Table(header=list(layout.keys), columns=list(layout.ranges), rows=[],
                              pages=[], raw_header=list(layout.raw))
            body_rows, top = rows[idx + 1:], rows[idx].y1
        elif layout is None or table is None:
            continue  # the table has not started yet
        else:
            body_rows, top = _skip_preamble(rows, layout, table.header, cues), None
        body = _body(body_rows, layout, table.header, cues, min_columns)
        added = _merge(body, table, page_no, top)
        if header_at is not None or added:
            table.pages.append(page_no)
    return table


# ------------------------------------------------------------------------- pieces and rows


def _pieces(line: OcrLine) -> list[_Piece]:
    """A line as one or more cell pieces: an OCR box occasionally spans two cells, which show
    as a wide gap between its characters."""
    chars = line_chars(line)
    if not chars:
        return []
    height = statistics.median(c.bbox[3] - c.bbox[1] for c in chars) or 1.0
    groups: list[list[Char]] = [[chars[0]]]
    for c in chars[1:]:
        if c.bbox[0] - groups[-1][-1].bbox[2] > _SPLIT_GAP * height:
            groups.append([])
        groups[-1].append(c)
    if len(groups) == 1:
        text = _clean_text(normalize_text(line.text))
        return [_Piece(text or "".join(c.ch for c in chars), union([c.bbox for c in chars]), chars)]
    return [_Piece(_chars_text(g, height), union([c.bbox for c in g]), g) for g in groups]


def _chars_text(chars: list[Char], height: float) -> str:
    """Text of characters with a space only between ASCII words (word-sized gap)."""
    out = chars[0].ch
    for a, b in zip(chars, chars[1:]):
        if _ascii_word(out[-1]) and _ascii_word(b.ch[0]) and b.bbox[0] - a.bbox[2] > 0.2 * height:
            out += " "
        out += b.ch
    return out


def _group_rows(pieces: list[_Piece]) -> list[_Row]:
    """Pieces whose vertical extents overlap by half the smaller height share a row. Compared
    with the row's first piece, not its growing union, so jittery rows do not chain together."""
    rows: list[_Row] = []
    refs: list[Box] = []
    for p in sorted(pieces, key=lambda p: (p.bbox[1] + p.bbox[3]) / 2):
        h = p.bbox[3] - p.bbox[1]
        for i in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            r = refs[i]
            if min(r[3], p.bbox[3]) - max(r[1], p.bbox[1]) >= 0.5 * min(h, r[3] - r[1]):
                rows[i].pieces.append(p)
                rows[i].y0, rows[i].y1 = min(rows[i].y0, p.bbox[1]), max(rows[i].y1, p.bbox[3])
                break
        else:
            rows.append(_Row([p], p.bbox[1], p.bbox[3]))
            refs.append(p.bbox)
    for r in rows:
        r.pieces.sort(key=lambda p: p.x0)
    rows.sort(key=lambda r: (r.y0 + r.y1) / 2)
    return rows


# ------------------------------------------------------------------------------- header


def _clean_label(text: str) -> str:
    """A header label as compared with the cues: a bilingual label ("金额 Amount", "户名 Name")
    is compared by its Chinese part, an English-only one in lower case without spaces."""
    text = normalize_text(text).replace("\u3000", " ")
    if _CJK.search(text):
        text = _LATIN.sub("", text)
    else:
        text = text.lower()
    return _UNIT.sub("", text.replace(" ", ""))


def _cue_score(label: str, cue: str) -> float:
    """How well a header cell names a cue: exact > starts with > contains (longer cues win)."""
    if not cue or not label:
        return 0.0
    if label == cue:
        return 1000.0
    if cue not in label:  # the cheap test first: every row of every page is tried as a header
        return 0.0
    core = re.sub(r"[()\[\]/]", "", label)  # brackets and slashes do not count as extra words
    if len(core) - len(cue) > _MAX_HEADER_EXTRA:
        return 0.0
    # A cue in brackets qualifies the label ("记账金额(收入)": the credit column, not "amount").
    qualified = 25.0 if re.search(r"[(\[]" + re.escape(cue) + r"[)\]]", label) else 0.0
    return 10.0 * len(cue) + (5.0 if label.startswith(cue) else 0.0) + qualified


def _match_header(row: _Row, cues: dict[str, list[str]]) -> dict[int, str]:
    """Piece index -> canonical key, each key and each piece used at most once, best first."""
    labels = [_clean_label(p.text) for p in row.pieces]
    pairs = []
    for i, label in enumerate(labels):
        for key, words in cues.items():
            score = max((_cue_score(label, w) for w in words), default=0.0)
            if score > 0:
                pairs.append((score, -i, i, key))
    pairs.sort(reverse=True)
    used_keys: set[str] = set()
    out: dict[int, str] = {}
    for _, _, i, key in pairs:
        if i not in out and key not in used_keys:
            out[i] = key
            used_keys.add(key)
    return out


def _find_header(rows: list[_Row], cues: dict[str, list[str]], min_columns: int,
                 want: list[str] | None = None) -> tuple[int, _Layout] | None:
    """The row matching the most cues. Once the table has started (``want`` = its keys), a
    page's header must fit it: same column count, no canonical key the table lacks. Another
    header (a summary table on the last page) is not the statement's header."""
    best: tuple[int, int, _Layout] | None = None
    for idx, row in enumerate(rows):
        for last, merged in _header_variants(rows, idx):
            matched = _match_header(merged, cues)
            if len(matched) < min_columns or (best is not None and len(matched) <= best[1]):
                continue
            layout = _anchor(merged, matched)
            if want is not None:
                if not _fits(layout, matched, want):
                    continue
                layout.keys = list(want)  # positional: the page's misread labels do not rename columns
            best = (last, len(matched), layout)
    return None if best is None else (best[0], best[2])


def _header_variants(rows: list[_Row], idx: int) -> list[tuple[int, _Row]]:
    """The row itself, and the row joined with the next one when a narrow column wraps its
    label onto a second line ("记账金额(收" / "入)"): (index of the last row used, row)."""
    row = rows[idx]
    out = [(idx, row)]
    if idx + 1 < len(rows):
        nxt = rows[idx + 1]
        h = max(row.y1 - row.y0, 1.0)
        if nxt.y0 - row.y1 < 0.6 * h and not any(ch.isdigit() for ch in nxt.text):
            out.append((idx + 1, _join_rows(row, nxt)))
    return out


def _join_rows(top: _Row, below: _Row) -> _Row:
    """Each piece of ``below`` appended to the piece of ``top`` it overlaps (or kept apart)."""
    pieces = [_Piece(p.text, p.bbox, list(p.chars)) for p in top.pieces]
    for q in below.pieces:
        over = [min(p.x1, q.x1) - max(p.x0, q.x0) for p in pieces]
        i = max(range(len(pieces)), key=lambda k: over[k]) if pieces else -1
        if i >= 0 and over[i] > 0:
            p = pieces[i]
            pieces[i] = _Piece(p.text + q.text, union([p.bbox, q.bbox]), p.chars + q.chars)
        else:
            pieces.append(q)
    pieces.sort(key=lambda p: p.x0)
    return _Row(pieces, min(top.y0, below.y0), max(top.y1, below.y1))


def _fits(layout: _Layout, matched: dict[int, str], want: list[str]) -> bool:
    return len(layout.keys) == len(want) and all(want[i] == k for i, k in matched.items())


def _anchor(row: _Row, matched: dict[int, str]) -> _Layout:
    """Column ranges from the header cells: boundaries halfway between neighbouring cells; the
    outer columns reach half a column pitch beyond their header (a right-aligned amount is
    wider than a two-character header centred above it)."""
    ps = row.pieces
    keys = [matched.get(i, _clean_label(p.text)) for i, p in enumerate(ps)]
    raw = [_clean_label(p.text) for p in ps]
    centres = [(p.x0 + p.x1) / 2 for p in ps]
    pitch = (centres[-1] - centres[0]) / (len(ps) - 1) if len(ps) > 1 else max(ps[0].x1 - ps[0].x0, 1.0)
    bounds = [(a.x1 + b.x0) / 2 for a, b in zip(ps, ps[1:])]
    lefts = [ps[0].x0 - pitch / 2] + bounds
    rights = bounds + [ps[-1].x1 + pitch / 2]
    return _Layout(keys, raw, list(zip(lefts, rights)), pitch, [(p.x0, p.x1) for p in ps])


def _refine(layout: _Layout, rows: list[_BodyRow]) -> _Layout:
    """Move each boundary between two header cells to the widest vertical strip of that gap
    that no body text crosses (or crosses least). Halfway between the headers is wrong as
    soon as a column is wide: a left-aligned description under a centred header starts far
    left of its header, closer to the date header than to its own."""
    pieces = [p for r in rows for cell in r.cells for p in cell]
    if not pieces:
        return layout
    bounds = []
    for (_, a1), (b0, _) in zip(layout.cells, layout.cells[1:]):
        if b0 <= a1:
            bounds.append((a1 + b0) / 2)
            continue
        inside = [(max(p.x0, a1), min(p.x1, b0)) for p in pieces if p.x1 > a1 and p.x0 < b0]
        xs = sorted({a1, b0, *(v for seg in inside for v in seg)})
        best_key, best_x = None, (a1 + b0) / 2
        run_start, run_count = None, None
        for x, nx in zip(xs, xs[1:] + [None]):  # segments between breakpoints, then a sentinel
            count = None if nx is None else sum(1 for l, r in inside if l <= x and r >= nx)
            if run_start is not None and count != run_count:  # close the run [run_start, x]
                key = (-run_count, x - run_start)
                if best_key is None or key > best_key:
                    best_key, best_x = key, (run_start + x) / 2
                run_start = None
            if count is not None and run_start is None:
                run_start, run_count = x, count
        bounds.append(best_x)
    # Where the data line up in blocks with clean gaps between them, those gaps win: they hold
    # whatever the alignment of labels and values (see extractor/columns.py).
    spans = [(p.x0, p.x1) for p in pieces]
    for i, x in enumerate(columns.boundaries(layout.cells, spans, tolerance=len(rows) // 50)):
        if x is not None:
            bounds[i] = x
    # The outer columns reach as far as their data do (a right-aligned balance under a
    # left-aligned label ends well right of the label).
    lefts = [min(layout.ranges[0][0], min(a for a, _ in spans))] + bounds
    rights = bounds + [max(layout.ranges[-1][1], max(b for _, b in spans))]
    return _Layout(layout.keys, layout.raw, list(zip(lefts, rights)), layout.pitch, layout.cells)


# --------------------------------------------------------------------------------- body


def _assign(row: _Row, layout: _Layout) -> list[list[_Piece]] | None:
    """Pieces per column; None when every piece lies outside the table."""
    cells: list[list[_Piece]] = [[] for _ in layout.ranges]
    placed = False
    for p in row.pieces:
        overlaps = [min(p.x1, r) - max(p.x0, l) for l, r in layout.ranges]
        best = max(range(len(overlaps)), key=lambda i: overlaps[i])
        if overlaps[best] <= 0:
            # a narrow piece between ranges (only at the outer edges): nearest column centre,
            # unless it is more than a column pitch away from the table
            left, right = layout.ranges[0][0], layout.ranges[-1][1]
            if p.x0 > right + layout.pitch or p.x1 < left - layout.pitch:
                continue
            cx = (p.x0 + p.x1) / 2
            best = min(range(len(layout.ranges)), key=lambda i: abs(sum(layout.ranges[i]) / 2 - cx))
        cells[best].append(p)
        placed = True
    return cells if placed else None


def _anchor_col(keys: list[str]) -> int:
    """The column every transaction fills: its date, or its date-and-time (支付宝 交易时间)."""
    for key in ("date", "time"):
        if key in keys:
            return keys.index(key)
    return 0


def _body(rows: list[_Row], layout: _Layout, keys: list[str], cues: dict[str, list[str]],
          min_columns: int) -> list[_BodyRow]:
    """Body rows of one page, up to a footer, a summary line, a row outside the table or a
    long vertical gap."""
    out: list[_BodyRow] = []
    anchor = _anchor_col(keys)
    heights = [p.bbox[3] - p.bbox[1] for r in rows for p in r.pieces]
    line_h = statistics.median(heights) if heights else 1.0
    for row in rows:
        matched = _match_header(row, cues)
        if len(matched) >= min_columns:
            if _fits(_anchor(row, matched), matched, keys):
                continue  # the header repeated in the middle of a page
            break  # another table's header: ours has ended
        cells = _assign(row, layout)
        if cells is None:
            break
        anchor_text = _join_texts([p.text for p in cells[anchor]])
        if STOP.search(row.text) and not _DATEISH.search(anchor_text):
            break
        if out and row.y0 - out[-1].y1 > _FAR_BELOW * line_h:
            break
        # a time of day under the date (the second line of a date cell) continues the row above
        out.append(_BodyRow(cells, row.y0, row.y1, bool(anchor_text) and not _TIME_ONLY.match(anchor_text)))
    return out


def _skip_preamble(rows: list[_Row], layout: _Layout, keys: list[str],
                   cues: dict[str, list[str]]) -> list[_Row]:
    """A page without a usable header of its own: drop what precedes the first
    transaction-looking row (a page title, the account number, a header OCR misread)."""
    anchor = _anchor_col(keys)
    for i, row in enumerate(rows):
        if len(_match_header(row, cues)) >= 2:
            continue
        cells = _assign(row, layout)
        if cells and cells[anchor] and sum(1 for c in cells if c) >= 2:
            return rows[i:]
    return []


def _merge(body: list[_BodyRow], table: Table, page: int, top: float | None) -> int:
    """Fold rows without an anchor cell (wrapped cells) into their transaction and append the
    transactions to ``table``; returns how many were added.

    A wrapped row joins the neighbour it is closer to: usually the row above (text wraps
    downwards), but the row below when the other cells are centred vertically in a tall row,
    so the first text line sits above the date. At the top of a page the neighbour above is
    the header, and joining "above" means the last transaction of the previous page.
    """
    added: list[_BodyRow] = []
    pending: list[_BodyRow] = []  # a wrapped row waiting for the transaction right below it
    for i, row in enumerate(body):
        if row.anchored:
            for p in pending:
                _append(row, p, before=True)
            pending = []
            added.append(row)
            continue
        above_y1 = body[i - 1].y1 if i > 0 else top
        gap_above = row.y0 - above_y1 if above_y1 is not None else float("inf")
        nxt = body[i + 1] if i + 1 < len(body) else None
        if nxt is not None and nxt.anchored and nxt.y0 - row.y1 < gap_above - 0.1 * (row.y1 - row.y0):
            pending.append(row)
        elif added:
            _append(added[-1], row)
        elif table.rows:
            _append_cells(table.rows[-1], row, page)  # a cell wrapped over a page break
        # else: stray text before any transaction; dropped
    for row in added:
        table.rows.append([_cell(pieces, page) for pieces in row.cells])
    return len(added)


def _append(target: _BodyRow, extra: _BodyRow, before: bool = False) -> None:
    for c, pieces in enumerate(extra.cells):
        target.cells[c] = pieces + target.cells[c] if before else target.cells[c] + pieces
    target.y0, target.y1 = min(target.y0, extra.y0), max(target.y1, extra.y1)


def _append_cells(cells: list[Cell], extra: _BodyRow, page: int) -> None:
    for c, pieces in enumerate(extra.cells):
        if not pieces:
            continue
        add = _cell(pieces, page)
        old = cells[c]
        if not old.text:
            cells[c] = add
        else:
            cells[c] = Cell(_join_texts([old.text, add.text]), old.bbox,
                            min(old.confidence, add.confidence), old.page)


def _cell(pieces: list[_Piece], page: int) -> Cell:
    """Pieces of one column, already in reading order (rows top to bottom, then left to
    right within a row)."""
    if not pieces:
        return Cell("", None, 1.0, page)
    return Cell(_join_texts([p.text for p in pieces]), union([p.bbox for p in pieces]),
                min(p.confidence for p in pieces), page)


# --------------------------------------------------------------------------------- text


def _ascii_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _join_texts(texts: list[str]) -> str:
    """Join wrapped fragments: nothing between CJK (or punctuation), a space between ASCII
    words."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if out and _ascii_word(out[-1]) and _ascii_word(t[0]) and not (out[-1].isdigit() and t[0].isdigit()):
            out += " "
        out += t
    return out


def _clean_text(text: str) -> str:
    """Collapse whitespace, keeping a space only between ASCII letters/digits ("ACME Ltd",
    "2024-01-05 10:30:00"): OCR puts stray spaces inside Chinese text and after separators
    ("1, 234.00")."""
    parts = text.split()
    if not parts:
        return ""
    out = parts[0]
    for p in parts[1:]:
        if _ascii_word(out[-1]) and _ascii_word(p[0]):
            out += " "
        out += p
    return out


__all__ = ["Cell", "Table", "find_table", "STOP"]
