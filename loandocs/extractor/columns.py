"""Column boundaries inferred from the data, not from the header.

A statement's header labels are placed by taste (centred, left-aligned over right-aligned
numbers, wider or narrower than the values), so they name columns but place them badly. The
values of many rows line up instead: whatever their alignment, the x-ranges that the body's
text covers form one solid block per column, and the vertical bands that no (or almost no)
body text crosses separate them. Each such block is a data column; each header cell names the
block it overlaps. Works on text-layer words and OCR boxes alike (only x-extents are used).

Pure: no OCR, no I/O.
"""

from __future__ import annotations

Span = tuple[float, float]


def free_bands(spans: list[Span], tolerance: int = 0) -> list[Span]:
    """Maximal x-intervals strictly inside the spans' hull covered by at most ``tolerance``
    spans (a few merged OCR boxes or an overlong cell must not join two columns)."""
    if not spans:
        return []
    events: list[tuple[float, int]] = []
    for a, b in spans:
        if b > a:
            events += [(a, 1), (b, -1)]
    events.sort(key=lambda e: (e[0], -e[1]))  # starts before ends at one x: touching spans join
    bands: list[Span] = []
    depth, start = 0, None
    lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    for x, d in events:
        before = depth
        depth += d
        if before > tolerance >= depth and x < hi:
            start = x
        elif before <= tolerance < depth and start is not None:
            if x > start and start > lo:
                bands.append((start, x))
            start = None
    return bands


def blocks(spans: list[Span], tolerance: int = 0) -> list[Span]:
    """The data columns: the hull of the spans cut at every free band."""
    if not spans:
        return []
    lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    out, x = [], lo
    for a, b in free_bands(spans, tolerance):
        out.append((x, a))
        x = b
    out.append((x, hi))
    return out


def _overlap(a: Span, b: Span) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def boundaries(header_cells: list[Span], spans: list[Span], tolerance: int = 0) -> list[float | None]:
    """For each gap between two neighbouring header cells, the x that separates their columns
    according to the data, or None where the data cannot tell (both labels over one block, or
    a label over no data at all): the caller then keeps its own estimate for that gap.

    Each block goes to the header cell it overlaps most, or else to the nearest one; a cell's
    column is then the blocks it was given, and the boundary lies in the middle of the free
    band between the last block of one cell and the first block of the next."""
    cols = blocks(spans, tolerance)
    if len(cols) < 2 or len(header_cells) < 2:
        return [None] * (len(header_cells) - 1)
    owner = []
    for blk in cols:
        best = max(range(len(header_cells)), key=lambda i: _overlap(blk, header_cells[i]))
        if _overlap(blk, header_cells[best]) <= 0:
            cx = (blk[0] + blk[1]) / 2
            best = min(range(len(header_cells)), key=lambda i: min(abs(cx - header_cells[i][0]),
                                                                    abs(cx - header_cells[i][1])))
        owner.append(best)
    out: list[float | None] = []
    for i in range(len(header_cells) - 1):
        mine = [k for k, o in enumerate(owner) if o == i]
        theirs = [k for k, o in enumerate(owner) if o == i + 1]
        if not mine or not theirs or max(mine) >= min(theirs):
            out.append(None)
            continue
        # blocks owned by neither (owned by a cell further away) between them: no clean cut
        if any(owner[k] not in (i, i + 1) for k in range(max(mine), min(theirs) + 1)):
            out.append(None)
            continue
        left, right = cols[max(mine)][1], cols[max(mine) + 1][0]
        out.append((left + right) / 2)
    return out


__all__ = ["free_bands", "blocks", "boundaries"]
