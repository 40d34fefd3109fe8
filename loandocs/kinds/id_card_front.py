"""居民身份证人像面: the resident ID card's portrait side."""

from __future__ import annotations

import datetime as dt

from loandocs.extractor import idnumber
from loandocs.extractor.idnumber import ID_PATTERN
from loandocs.extractor.layout import Row, find_label
from loandocs.extractor.parsers.idcard import parse_front
from loandocs.kinds import grammars
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, Parsed, ParseInput, Values, fields_of
from loandocs.models import Check, DocumentResult
from loandocs.rules.catalog import make_check

FIELDS = fields_of(
    FieldSpec("name", FieldType.TEXT, "姓名"),
    FieldSpec("sex", FieldType.ENUM, "性别", choices=("男", "女")),
    FieldSpec("ethnicity", FieldType.TEXT, "民族"),
    FieldSpec("birth_date", FieldType.DATE, "出生日期"),
    FieldSpec("address", FieldType.TEXT, "住址"),
    FieldSpec("id_number", FieldType.ID_NUMBER, "公民身份号码"),
)


def parse(doc: ParseInput) -> Parsed:
    fields = parse_front(doc.first.rows, doc.first.page)
    grammars.enforce(fields, grammars.FRONT)
    grammars.doubtful_pieces(fields, doc.first.lines)
    return Parsed(fields)


# The card's labels down its left side, top to bottom (民族 shares the 性别 row).
LABEL_COLUMN = ("姓名", "性别", "出生", "住址", "公民身份号码")


def layout_evidence(rows: list[Row]) -> int:
    """How many of the card's labels start rows in the card's order, down one left edge: a
    credit report or a contract names a person and an ID number, but not in this shape."""
    return labels_in_order(rows, LABEL_COLUMN)


def labels_in_order(rows: list[Row], labels: tuple[str, ...]) -> int:
    """The longest run of ``labels`` found at row starts, in order top to bottom, whose left
    edges line up (within two character widths)."""
    found: list[tuple[int, float, float, float]] = []  # (label index, row y, label x0, char height)
    for row in rows:
        for i, label in enumerate(labels):
            hit = find_label(row, label, max_start=2)
            if hit:
                c = row.chars[hit[0]]
                found.append((i, row.cy, c.bbox[0], c.bbox[3] - c.bbox[1]))
                break
    best = 0
    for anchor in found:
        run = [f for f in found if abs(f[2] - anchor[2]) <= 2 * max(anchor[3], f[3])]
        run.sort(key=lambda f: f[1])
        # Longest increasing sequence of label indices down the page.
        lengths: list[int] = []
        for j, f in enumerate(run):
            lengths.append(1 + max((lengths[i] for i in range(j) if run[i][0] < f[0]), default=0))
        best = max(best, max(lengths, default=0))
    return best


def _id_number_bonus(compact: str) -> float:
    # An 18-character ID number printed alone is strong evidence of a card front; a
    # certificate also carries one, but then certificate cues dominate.
    return 1.5 if ID_PATTERN.search(compact.upper()) else 0.0


def checks(doc: DocumentResult, f: Values, ctx: CheckContext) -> list[Check]:
    out: list[Check] = []
    number = f.get("id_number")
    if not number:
        return out
    out.append(make_check("id_checksum_invalid", idnumber.is_valid_checksum(number), ["id_number"]))
    encoded_birth = idnumber.birth_date(number)
    bad: list[str] = []
    if encoded_birth and "birth_date" in f and doc.fields["birth_date"].source != "derived" and f["birth_date"] != encoded_birth.isoformat():
        bad.append("birth_date")
    if "sex" in f and doc.fields["sex"].source != "derived" and idnumber.sex(number) and f["sex"] != idnumber.sex(number):
        bad.append("sex")
    out.append(
        make_check(
            "id_fields_inconsistent",
            not bad,
            bad + (["id_number"] if bad else []),
            what_zh="、".join({"birth_date": "出生日期", "sex": "性别"}[b] for b in bad),
            what_en=" and ".join({"birth_date": "birth date", "sex": "sex"}[b] for b in bad),
        )
    )
    born = encoded_birth or (dt.date.fromisoformat(f["birth_date"]) if "birth_date" in f else None)
    if born:
        t = ctx.thresholds
        age = idnumber.age_on(born, ctx.today)
        out.append(make_check("age_out_of_range", t.min_age <= age <= t.max_age, ["birth_date"], age=age, min_age=t.min_age, max_age=t.max_age))
    return out


KIND = DocumentKind(
    name="id_card_front",
    name_zh="身份证人像面",
    name_en="ID card (portrait side)",
    cues=(("公民身份号码", 3), ("身份号码", 2), ("姓名", 1), ("性别", 1), ("民族", 1), ("出生", 1), ("住址", 1.5)),
    extra_score=_id_number_bonus,
    fields=FIELDS,
    parse=parse,
    checks=checks,
    key_fields=("name", "id_number"),
    duplicate_keys=("id_number", "name"),
    name_field="name",
    id_field="id_number",
    identity_rank=0,  # the ID card is the authority on name and number
    is_card=True,
)
