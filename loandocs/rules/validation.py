"""Document-level checks (one document at a time; cross-document checks belong to the
application assessment)."""

from __future__ import annotations

import datetime as dt

from loandocs.extractor import idnumber
from loandocs.rules.catalog import QUALITY_EN, QUALITY_ZH, make_check
from loandocs.extractor.options import PipelineOptions
from loandocs.extractor.parsers import income, statement
from loandocs.extractor.parsers.idcard import BACK_FIELDS, FRONT_FIELDS
from loandocs.models import Check, DocumentResult

REQUIRED: dict[str, tuple[str, ...]] = {
    "id_card_front": FRONT_FIELDS,
    "id_card_back": BACK_FIELDS,
    "income_certificate": tuple(f for f in income.FIELDS if f != "has_seal"),
    "bank_statement": statement.FIELDS,
}
# Without these the document is of no use; their absence makes the image "unreadable".
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "id_card_front": ("name", "id_number"),
    "id_card_back": ("valid_until",),
    "income_certificate": ("employee_name", "monthly_income"),
    "bank_statement": ("account_number",),
}
# A card cut off at the frame is incomplete whatever was read from it (KYC needs the whole
# card). Blur, glare, darkness and a small image only matter when they cost us fields.
SEVERE = {"card_cut_off"}


def validate(doc: DocumentResult, options: PipelineOptions) -> list[Check]:
    checks: list[Check] = []
    if doc.doc_type == "unknown":
        problems = sorted({p for q in doc.quality for p in q.problems})
        if problems:
            # Nothing recognisable on a poor image: ask for a better picture, not for
            # another document.
            return [_unreadable(problems, [])]
        return [make_check("wrong_document_type", False)]
    today = options.effective_application_date()
    f = {k: v.value for k, v in doc.fields.items() if v.value not in (None, "")}

    if doc.doc_type == "id_card_front":
        checks.extend(_front_checks(f, doc, today, options))
    elif doc.doc_type == "id_card_back":
        until = f.get("valid_until")
        if until and until != "long_term":
            expired = dt.date.fromisoformat(until) < today
            checks.append(make_check("document_expired", not expired, ["valid_until"], valid_until=until))

    elif doc.doc_type == "income_certificate":
        checks.extend(_certificate_checks(f, doc, today, options))
    elif doc.doc_type == "bank_statement":
        checks.extend(_statement_checks(f, doc, today, options))

    required = REQUIRED.get(doc.doc_type, ())
    low = [k for k in required if k in doc.fields and doc.fields[k].source != "reviewer" and doc.fields[k].confidence < options.low_confidence_threshold]
    checks.append(make_check("low_confidence", not low, low))

    problems = sorted({p for q in doc.quality for p in q.problems})
    missing = [k for k in KEY_FIELDS.get(doc.doc_type, ()) if k not in f]
    if doc.doc_type == "bank_statement" and not doc.transactions:
        missing.append("transactions")
    reasons = [p for p in problems if p in SEVERE]
    if missing:
        reasons.append("fields_unreadable")
    elif problems and ([k for k in required if k not in f] or low):
        # Blur or glare on their own are fine if everything was read well; with fields
        # missing or doubtful they are the likely reason and the applicant should retake it.
        reasons.extend(p for p in problems if p not in reasons)
    checks.append(_unreadable(reasons, missing))
    return checks


def _unreadable(reasons: list[str], fields: list[str]) -> Check:
    """``image_unreadable``, failing when there are reasons, which its message names."""
    return make_check(
        "image_unreadable",
        not reasons,
        fields,
        reasons="、".join(QUALITY_ZH.get(r, r) for r in reasons),
        reasons_en=", ".join(QUALITY_EN.get(r, r) for r in reasons),
    )


def _front_checks(f: dict, doc: DocumentResult, today: dt.date, options: PipelineOptions) -> list[Check]:
    checks: list[Check] = []
    number = f.get("id_number")
    if not number:
        return checks
    checks.append(make_check("id_checksum_invalid", idnumber.is_valid_checksum(number), ["id_number"]))
    encoded_birth = idnumber.birth_date(number)
    bad: list[str] = []
    if encoded_birth and "birth_date" in f and doc.fields["birth_date"].source != "derived" and f["birth_date"] != encoded_birth.isoformat():
        bad.append("birth_date")
    if "sex" in f and doc.fields["sex"].source != "derived" and idnumber.sex(number) and f["sex"] != idnumber.sex(number):
        bad.append("sex")
    checks.append(
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
        age = idnumber.age_on(born, today)
        ok = options.min_age <= age <= options.max_age
        checks.append(make_check("age_out_of_range", ok, ["birth_date"], age=age, min_age=options.min_age, max_age=options.max_age))
    return checks


def _certificate_checks(f: dict, doc: DocumentResult, today: dt.date, options: PipelineOptions) -> list[Check]:
    checks = []
    if "has_seal" in doc.fields:
        checks.append(make_check("seal_missing", bool(f.get("has_seal")), ["has_seal"]))
    issued = f.get("issue_date")
    if issued:
        age = (today - dt.date.fromisoformat(issued)).days
        checks.append(make_check("certificate_stale", age <= options.certificate_max_age_days, ["issue_date"], issue_date=issued, days=options.certificate_max_age_days))
    return checks


def _statement_checks(f: dict, doc: DocumentResult, today: dt.date, options: PipelineOptions) -> list[Check]:
    checks = []
    txs = doc.transactions or []
    opening = f.get("opening_balance")
    breaks = statement.balance_breaks(opening, txs)
    where = [f"第{i + 1}行 {txs[i].date} {txs[i].amount:+.2f}" for i in breaks]
    fields = [f"transactions[{i}]" for i in breaks]
    totals = [f.get(k) for k in ("opening_balance", "total_credits", "total_debits", "closing_balance")]
    if all(v is not None for v in totals):
        o, c, d, close = totals
        if abs(round(o + c - d, 2) - close) > 0.005:
            where.append(f"期初{o:.2f}+收入{c:.2f}-支出{d:.2f}≠期末{close:.2f}")
            fields.extend(["opening_balance", "total_credits", "total_debits", "closing_balance"])
    checks.append(make_check("balance_inconsistent", not where, fields, where="; ".join(where)))
    start, end = f.get("period_start"), f.get("period_end")
    if start and end:
        days = (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days + 1
        checks.append(make_check("statement_period_short", days >= options.statement_min_days, ["period_start", "period_end"], days=days))
        stale = (today - dt.date.fromisoformat(end)).days > options.statement_max_age_days
        checks.append(make_check("statement_stale", not stale, ["period_end"], period_end=end))
    return checks
