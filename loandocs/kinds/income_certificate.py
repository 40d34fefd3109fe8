"""收入证明: the employer's income certificate, with its seal."""

from __future__ import annotations

import datetime as dt

from loandocs.extractor.parsers.income import compare_seal_text, distrust_under_seal, parse_income_certificate, seal_field
from loandocs.extractor.seal import find_seal, unroll_ring
from loandocs.kinds import grammars
from loandocs.kinds.base import CheckContext, DocumentKind, FieldSpec, FieldType, Parsed, ParseInput, Values, fields_of
from loandocs.models import Check, DocumentResult
from loandocs.rules.catalog import make_check

FIELDS = fields_of(
    FieldSpec("employee_name", FieldType.TEXT, "员工姓名"),
    FieldSpec("id_number", FieldType.ID_NUMBER, "身份证号码"),
    FieldSpec("employer", FieldType.TEXT, "工作单位"),
    FieldSpec("position", FieldType.TEXT, "职务"),
    FieldSpec("employment_start", FieldType.MONTH, "入职时间"),
    FieldSpec("monthly_income", FieldType.MONEY, "月收入", non_negative=True),
    FieldSpec("annual_income", FieldType.MONEY, "年收入", non_negative=True),
    FieldSpec("issue_date", FieldType.DATE, "开具日期"),
    FieldSpec("contact_phone", FieldType.TEXT, "联系电话"),
    # The seal is judged by seal_missing, not by a confidence.
    FieldSpec("has_seal", FieldType.BOOLEAN, "单位公章", required=False, from_pixels=True),
    FieldSpec("seal_text", FieldType.TEXT, "公章文字", required=False, from_pixels=True),
)


def parse(doc: ParseInput) -> Parsed:
    first = doc.first
    fields = parse_income_certificate(first.rows, first.page)
    image = first.image()
    seal = find_seal(image)
    fields["has_seal"] = seal_field(seal, first.page)
    if seal is not None:
        compare_seal_text(fields, doc.ocr().read(unroll_ring(image, seal)), first.page)
        if not first.text_layer:
            distrust_under_seal(fields, seal.bbox)
    grammars.enforce(fields, grammars.CERTIFICATE)
    return Parsed(fields)


def checks(doc: DocumentResult, f: Values, ctx: CheckContext) -> list[Check]:
    out = []
    if "has_seal" in doc.fields:
        out.append(make_check("seal_missing", bool(f.get("has_seal")), ["has_seal"]))
    issued = f.get("issue_date")
    if issued:
        days = ctx.thresholds.certificate_max_age_days
        age = (ctx.today - dt.date.fromisoformat(issued)).days
        out.append(make_check("certificate_stale", age <= days, ["issue_date"], issue_date=issued, days=days))
    return out


KIND = DocumentKind(
    name="income_certificate",
    name_zh="收入证明",
    name_en="income certificate",
    cues=(("收入证明", 4), ("兹证明", 2), ("月收入", 2), ("年收入", 2), ("工资", 1), ("特此证明", 2), ("职务", 1), ("入职", 1)),
    fields=FIELDS,
    parse=parse,
    checks=checks,
    key_fields=("employee_name", "monthly_income"),
    duplicate_keys=("employee_name", "employer", "monthly_income", "issue_date"),
    name_field="employee_name",
    id_field="id_number",
    identity_rank=1,
    stated_income_field="monthly_income",
    employer_field="employer",
)
