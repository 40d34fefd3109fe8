"""不动产权证书 (and the older 房屋所有权证): the title to the property a mortgage is for."""

from __future__ import annotations

from loandocs.extractor.parsers.property import parse_property
from loandocs.kinds.base import DocumentKind, FieldSpec, FieldType, Parsed, ParseInput, fields_of

FIELDS = fields_of(
    FieldSpec("certificate_no", FieldType.TEXT, "证书编号"),
    FieldSpec("owners", FieldType.TEXT, "权利人"),
    FieldSpec("co_ownership", FieldType.TEXT, "共有情况"),
    FieldSpec("location", FieldType.TEXT, "坐落"),
    FieldSpec("unit_no", FieldType.TEXT, "不动产单元号", required=False),
    FieldSpec("right_type", FieldType.TEXT, "权利类型", required=False),
    FieldSpec("right_nature", FieldType.TEXT, "权利性质"),
    FieldSpec("usage", FieldType.TEXT, "用途"),
    FieldSpec("area_m2", FieldType.NUMBER, "建筑面积(㎡)"),
    FieldSpec("term", FieldType.TEXT, "使用期限", required=False),
)


def parse(doc: ParseInput) -> Parsed:
    return Parsed(parse_property(doc.first.rows, doc.first.page))


KIND = DocumentKind(
    name="property_certificate",
    name_zh="不动产权证书",
    name_en="property certificate",
    cues=(
        ("不动产权", 5),
        ("房屋所有权证", 5),
        ("不动产单元号", 3),
        ("权利人", 2),
        ("坐落", 2),
        ("共有情况", 2),
        ("权利类型", 1.5),
        ("权利性质", 1.5),
        ("使用期限", 1),
        ("建筑面积", 1),
    ),
    fields=FIELDS,
    parse=parse,
    key_fields=("owners", "location"),
    duplicate_keys=("certificate_no",),
    holders_field="owners",
)
