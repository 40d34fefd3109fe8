"""居民身份证人像面: the resident ID card's portrait side."""

from __future__ import annotations

import datetime as dt

from loandocs.extractor import idnumber
from loandocs.extractor.idnumber import ID_PATTERN
from loandocs.extractor.parsers.idcard import parse_front
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
    return Parsed(parse_front(doc.first.rows, doc.first.page))


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
