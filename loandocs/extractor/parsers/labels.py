"""Label/value pairs on printed forms (a licence, a property certificate, a credit report's
header): a value is what follows its label on the same row, up to the next known label; a long
value (an address) may wrap onto rows below that start under it and hold no label.

Labels are matched on the row text with spaces removed, so spaced-out labels (名    称) read the
same as tight ones; one misread character is forgiven in labels of four or more characters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from loandocs.extractor.layout import Row, Span

_PUNCT = ":;,. "
DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")


@dataclass
class Hit:
    text: str
    span: Span
    row: int  # index of the label's row


def _find(text: str, label: str, gap: int = 2) -> tuple[int, int]:
    """(start, end) of ``label`` in ``text``; (-1, -1) when absent."""
    i = text.find(label)
    if i >= 0:
        return i, i + len(label)
    if len(label) == 2:
        # A spaced-out label (名    称) on a tilted photo can have another row's characters
        # between its two halves: 名类称. Two characters apart at most.
        m = re.search(re.escape(label[0]) + r"[^\d]{1,%d}?" % gap + re.escape(label[1]), text)
        return (m.start(), m.end()) if m else (-1, -1)
    if len(label) < 4:
        return -1, -1
    n = len(label)
    for start in range(0, len(text) - n + 1):
        if sum(a == b for a, b in zip(text[start : start + n], label)) >= n - 1 and text[start] == label[0]:
            return start, start + n
    return -1, -1


def labelled(rows: list[Row], labels: Sequence[str], stops: Sequence[str] = (), *, wrap: bool = False, start_row: int = 0,
             end_row: int | None = None) -> Hit | None:  # fmt: skip
    """The value after the first of ``labels`` found (rows from ``start_row``), cut at the
    first of ``stops`` after it. ``wrap`` adds label-free rows below that start under the
    value (within two line heights of each other)."""
    stop_at = len(rows) if end_row is None else end_row
    hit = _labelled(rows, labels, stops, wrap, start_row, stop_at, gap=2)
    # Last resort: a two-character label whose halves another row's value came between.
    return hit if hit is not None else _labelled(rows, labels, stops, wrap, start_row, stop_at, gap=30)


def _labelled(rows: list[Row], labels: Sequence[str], stops: Sequence[str], wrap: bool, start_row: int, stop_at: int, gap: int) -> Hit | None:
    for ri in range(start_row, stop_at):
        row = rows[ri]
        text = row.text
        for lab in labels:
            i, start = _find(text, lab, gap)
            if i < 0:
                continue
            while start < len(text) and not (text[start].isalnum() or text[start] == "("):
                start += 1  # stray marks between a label and its value (☑, |)
            while start < len(text) and text[start] in _PUNCT:
                start += 1
            end = _cut(text, start, stops)
            if end <= start:
                continue
            span = row.span(start, end)
            value = text[start:end]
            if wrap and end == len(text):
                value, span = _wrapped(rows, ri, span, value, list(labels) + list(stops), stop_at)
            return Hit(value.rstrip(_PUNCT), span, ri)
    return None


def _cut(text: str, start: int, stops: Sequence[str]) -> int:
    end = len(text)
    for st in stops:
        j = text.find(st, start)
        if 0 <= j < end:
            end = j
        elif j < 0 and len(st) == 2 and (k := text.find(st[1], start)) >= 0 and 0 <= text.rfind(st[0], 0, k) < start:
            end = min(end, k)  # the other half of a spaced-out label split around this value (类...型)
    return end


def _wrapped(rows: list[Row], ri: int, span: Span, value: str, labels: list[str], stop_at: int) -> tuple[str, Span]:
    x0 = span.bbox[0] if span.bbox else 0.0
    chars = list(span.chars)
    prev = rows[ri]
    for nxt in rows[ri + 1 : stop_at]:
        b, pb = nxt.bbox, prev.bbox
        height = max(1.0, pb[3] - pb[1])
        if b[1] - pb[3] > 1.2 * height or b[0] < x0 - 1.5 * height or any(lab in nxt.text for lab in labels):
            break
        if DATE.fullmatch(nxt.text):  # a date under the address is the issue date, not more address
            break
        chars.extend(nxt.chars)
        value += nxt.text
        prev = nxt
    return value, Span(chars)


def iso_date(text: str) -> str | None:
    m = DATE.search(text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def sub_span(span: Span, text: str, m: re.Match[str], group: int = 0) -> Span:
    """The characters of ``span`` (whose text is ``text``) that ``m``'s group covers."""
    del text
    return Span(span.chars[m.start(group) : m.end(group)])


__all__ = ["DATE", "Hit", "iso_date", "labelled", "sub_span"]
