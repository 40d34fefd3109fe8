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


def _find(text: str, label: str) -> int:
    i = text.find(label)
    if i >= 0 or len(label) < 4:
        return i
    n = len(label)
    for start in range(0, len(text) - n + 1):
        if sum(a == b for a, b in zip(text[start : start + n], label)) >= n - 1 and text[start] == label[0]:
            return start
    return -1


def labelled(rows: list[Row], labels: Sequence[str], stops: Sequence[str] = (), *, wrap: bool = False, start_row: int = 0,
             end_row: int | None = None) -> Hit | None:  # fmt: skip
    """The value after the first of ``labels`` found (rows from ``start_row``), cut at the
    first of ``stops`` after it. ``wrap`` adds label-free rows below that start under the
    value (within two line heights of each other)."""
    stop_at = len(rows) if end_row is None else end_row
    for ri in range(start_row, stop_at):
        row = rows[ri]
        text = row.text
        for lab in labels:
            i = _find(text, lab)
            if i < 0:
                continue
            start = i + len(lab)
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
