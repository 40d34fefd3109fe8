"""Application-level assessment: the documents of one application against the checklist of
its loan type (``checklist.yaml``).

Pure: documents in, ``Assessment`` out; no OCR, storage or clock (the application date is
passed in). Document-level checks come from ``validation.validate``; this module adds the
checks that need several documents (names, ID numbers, income, duplicates) and missing
materials, and turns failures into the applicant's supplement list and the reviewer's list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from loandocs import kinds
from loandocs.extractor.options import PipelineOptions
from loandocs.models import Check, DocumentResult
from loandocs.models.policy import Thresholds
from loandocs.rules.catalog import make_check
from loandocs.rules.checklist import Checklist, load_checklist

Status = Literal["collected", "needs_supplement"]


def options_for(loan_type: str, base: PipelineOptions, checklist: Checklist | None = None) -> PipelineOptions:
    """``base`` with the loan type's thresholds (overrides included) for the document checks."""
    return base.model_copy(update={"thresholds": (checklist or load_checklist()).thresholds(loan_type)})


# ---- the result ---------------------------------------------------------------------------


class ChecklistItem(BaseModel):
    material: str
    name_zh: str
    name_en: str
    doc_type: str
    required: bool
    weight: float
    present: bool
    ok: bool  # present, and at least one of its documents passes every supplement check
    document_indexes: list[int] = Field(default_factory=list)  # into Assessment.documents
    failed_codes: list[str] = Field(default_factory=list)  # failed checks of either severity


class Finding(BaseModel):
    code: str
    doc_type: str
    message_zh: str
    message_en: str


class Assessment(BaseModel):
    loan_type: str
    application_date: dt.date
    documents: list[DocumentResult]
    checklist: list[ChecklistItem]
    completeness: int = Field(ge=0, le=100)
    status: Status
    supplement: list[Finding]
    review: list[Finding]
    # Parallel to documents: the codes failing on each (its own checks and the cross-document
    # ones), after waivers; what a reviewer could still waive.
    failed_codes: list[list[str]] = Field(default_factory=list)


# ---- cross-document checks ----------------------------------------------------------------

# Fields that identify the applicant, by kind; the kind with the lowest identity_rank (the ID
# card) is the authority: when values differ, the other document is the one to redo.
NAME_FIELDS = {k.name: k.name_field for k in kinds.KINDS if k.name_field}
ID_FIELDS = {k.name: k.id_field for k in kinds.KINDS if k.id_field}
_DOTS = re.compile(r"[•・．.]")  # middle-dot variants in names of some minorities (阿卜杜·热合曼)


def _value(doc: DocumentResult, name: str) -> Any:
    f = doc.fields.get(name)
    return None if f is None or f.value in (None, "") else f.value


def _norm_name(v: Any) -> str:
    return _DOTS.sub("·", re.sub(r"\s+", "", str(v)))  # \s covers the full-width space too


def _norm_id(v: Any) -> str:
    return re.sub(r"\s+", "", str(v)).upper()


def _rank(doc: DocumentResult) -> int:
    kind = kinds.get(doc.doc_type)
    return kind.identity_rank if kind else 1000


def _mismatches(docs: list[DocumentResult], live: list[int], fields: dict[str, str], norm: Callable[[Any], str], code: str) -> list[tuple[int, Check]]:
    seen = [(i, norm(v)) for i in live if docs[i].doc_type in fields and (v := _value(docs[i], fields[docs[i].doc_type])) is not None]
    if not seen:
        return []
    seen.sort(key=lambda t: (_rank(docs[t[0]]), t[0]))
    ref = seen[0][1]
    return [(i, make_check(code, False, [fields[docs[i].doc_type]])) for i, v in seen if v != ref]


def _income(docs: list[DocumentResult], live: list[int], ratio: float) -> list[tuple[int, Check]]:
    """Income a document states (a certificate) against income another shows paid (a statement)."""
    stated: list[tuple[int, str, float]] = []
    paid: list[float] = []
    for i in live:
        kind = kinds.get(docs[i].doc_type)
        if kind is None:
            continue
        if kind.stated_income_field and (v := _value(docs[i], kind.stated_income_field)) is not None:
            stated.append((i, kind.stated_income_field, float(v)))
        if kind.paid_income_field and (v := _value(docs[i], kind.paid_income_field)) is not None:
            paid.append(float(v))
    out = []
    for i, name, amount in stated:
        if amount > 0 and any(abs(amount - s) / amount > ratio for s in paid):
            out.append((i, make_check("income_mismatch", False, [name])))
    return out


def _organisations(docs: list[DocumentResult], live: list[int]) -> list[tuple[int, Check]]:
    """The company a document is about (a licence) against the employer another names (an
    income certificate), where both were read: a borrower's own business should be the
    employer the certificate names."""
    employers: list[str] = []
    companies: list[tuple[int, str, str]] = []
    for i in live:
        kind = kinds.get(docs[i].doc_type)
        if kind is None:
            continue
        if kind.employer_field and (v := _value(docs[i], kind.employer_field)) is not None:
            employers.append(_norm_org(v))
        if kind.company_field and (v := _value(docs[i], kind.company_field)) is not None:
            companies.append((i, kind.company_field, _norm_org(v)))
    if not employers:
        return []
    return [(i, make_check("employer_mismatch", False, [name])) for i, name, c in companies if c not in employers]


def _norm_org(v: Any) -> str:
    return re.sub(r"\s+", "", str(v)).replace("（", "(").replace("）", ")")


_HOLDER_SPLIT = re.compile(r"[、,，;；/\s]+")


def _holders(docs: list[DocumentResult], live: list[int]) -> list[tuple[int, Check]]:
    """The applicant (the name the identity authority gives) among a document's holders (a
    property's 权利人)."""
    named = [i for i in live if docs[i].doc_type in NAME_FIELDS and _value(docs[i], NAME_FIELDS[docs[i].doc_type]) is not None]
    if not named:
        return []
    ref = min(named, key=lambda i: (_rank(docs[i]), i))
    applicant = _norm_name(_value(docs[ref], NAME_FIELDS[docs[ref].doc_type]))
    out = []
    for i in live:
        kind = kinds.get(docs[i].doc_type)
        if kind is None or not kind.holders_field or (v := _value(docs[i], kind.holders_field)) is None:
            continue
        if applicant not in {_norm_name(n) for n in _HOLDER_SPLIT.split(str(v)) if n}:
            out.append((i, make_check("holder_mismatch", False, [kind.holders_field])))
    return out


def _duplicates(docs: list[DocumentResult], live: list[int], file_hashes: list[str] | None) -> list[tuple[int, Check]]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for i in live:
        d = docs[i]
        # One file may hold several documents (front and back on one scan), so the file hash
        # alone does not make a duplicate: the same type from the same pages does.
        keys: list[tuple[Any, ...]] = [("file", file_hashes[i], d.doc_type, tuple(d.pages))] if file_hashes else []
        kind = kinds.get(d.doc_type)
        values = tuple(_value(d, f) for f in (kind.duplicate_keys if kind else ()))
        if kind and kind.key_value:
            values = tuple(kind.key_value(f, v) for f, v in zip(kind.duplicate_keys, values, strict=True))
        if values and all(v is not None for v in values):
            keys.append(("fields", d.doc_type, values))
        if any(k in seen for k in keys):
            out.append((i, make_check("duplicate_document", False)))
        seen.update(keys)
    return out


def _reword(check: Check, t: Thresholds) -> tuple[str, str]:
    """The catalog's texts hard-code the default thresholds (6 months, 30 days, 30%); say the
    loan type's own when they differ."""
    zh, en = check.message_zh, check.message_en
    if check.code == "statement_period_short":
        m = max(1, round(t.statement_min_days / 30.4))
        zh, en = zh.replace("最近6个月", f"最近{m}个月"), en.replace("the last 6 months", f"the last {m} months")
    elif check.code == "statement_stale":
        n = t.statement_max_age_days
        zh, en = zh.replace("近30天", f"近{n}天"), en.replace("the last 30 days", f"the last {n} days")
    elif check.code == "credit_overdue" and t.credit_max_overdue_months_24m:
        n = t.credit_max_overdue_months_24m
        zh, en = zh.replace("个月逾期（", f"个月逾期（超过{n}个月，"), en.replace("in the last 24 (", f"in the last 24 (more than {n}; ")
    elif check.code == "income_mismatch":
        p = f"{t.income_mismatch_ratio * 100:g}%"
        zh, en = zh.replace("超过30%", f"超过{p}"), en.replace("more than 30%", f"more than {p}")
    return zh, en


# ---- assess -------------------------------------------------------------------------------


def assess(
    documents: list[DocumentResult],
    loan_type: str,
    application_date: dt.date,
    checklist: Checklist | None = None,
    *,
    file_hashes: list[str] | None = None,
    revalidate: bool = False,
    waivers: Sequence[Mapping[str, tuple[str, str]]] | None = None,
) -> Assessment:
    """Assess one application's documents.

    ``file_hashes`` (parallel to ``documents``) lets a re-upload of the same file count as a
    duplicate. ``revalidate`` re-runs the document-level checks with this loan type's
    thresholds and ``application_date``: use it when the documents were extracted with other
    options, or after reviewer corrections. Documents that carry an ``error`` (the file could
    not be read) are listed but not judged; the material they were meant to be stays missing.
    ``waivers`` (parallel to ``documents``): check code -> (reviewer, reason) overruled on that
    document; such a check passes, and says who waived it and why.
    """
    cl = checklist or load_checklist()
    lt = cl.loan_type(loan_type)
    t = cl.thresholds(loan_type)
    if file_hashes is not None and len(file_hashes) != len(documents):
        raise ValueError("file_hashes must be parallel to documents")
    docs = list(documents)
    if revalidate:
        from loandocs.rules.validation import validate

        docs = [d if d.error else d.model_copy(update={"checks": validate(d, t, application_date)}) for d in docs]
    live = [i for i, d in enumerate(docs) if d.error is None]

    failed: dict[int, list[Check]] = {i: [c for c in docs[i].checks if not c.ok] for i in live}
    cross = (
        _mismatches(docs, live, NAME_FIELDS, _norm_name, "name_mismatch")
        + _mismatches(docs, live, ID_FIELDS, _norm_id, "id_number_mismatch")
        + _income(docs, live, t.income_mismatch_ratio)
        + _organisations(docs, live)
        + _holders(docs, live)
        + _duplicates(docs, live, file_hashes)
    )
    for i, check in cross:
        failed[i].append(check)
    if waivers is not None:
        if len(waivers) != len(documents):
            raise ValueError("waivers must be parallel to documents")
        for i in live:
            if waivers[i]:
                failed[i] = [c for c in failed[i] if c.code not in waivers[i]]
                docs[i] = _with_waivers(docs[i], waivers[i])

    def passes(i: int) -> bool:
        return not any(c.severity == "supplement" for c in failed[i])

    items: list[ChecklistItem] = []
    for ref in lt.materials:
        m = cl.materials[ref.material]
        idx = [i for i in live if docs[i].doc_type == m.doc_type]
        codes = sorted({c.code for i in idx for c in failed[i]}) if idx else ["missing_document"]
        items.append(
            ChecklistItem(
                material=ref.material, name_zh=m.name_zh, name_en=m.name_en, doc_type=m.doc_type,
                required=ref.required, weight=ref.weight, present=bool(idx),
                ok=any(passes(i) for i in idx), document_indexes=idx, failed_codes=codes,
            )
        )  # fmt: skip
    satisfied = {it.doc_type for it in items if it.ok}
    all_required_ok = all(it.ok for it in items if it.required)

    supplement: list[Finding] = []
    review: list[Finding] = []
    for it in items:
        if it.required and not it.present:
            zh = make_check("missing_document", False, material=it.name_zh).message_zh
            en = make_check("missing_document", False, material=it.name_en).message_en
            supplement.append(Finding(code="missing_document", doc_type=it.doc_type, message_zh=zh, message_en=en))
    for i in live:
        doc_type = docs[i].doc_type
        # A failing document is superseded when another document already satisfies its
        # material (the applicant re-uploaded), or, for a document that is none of the
        # materials, when every required material is satisfied. Asking the applicant again
        # would keep the application in needs_supplement forever, so those failures go to the
        # reviewer instead.
        superseded = doc_type in satisfied if doc_type in {it.doc_type for it in items} else all_required_ok
        for c in failed[i]:
            zh, en = _reword(c, t)
            finding = Finding(code=c.code, doc_type=doc_type, message_zh=zh, message_en=en)
            (supplement if c.severity == "supplement" and not superseded else review).append(finding)

    required_weight = sum(it.weight for it in items if it.required)
    done_weight = sum(it.weight for it in items if it.required and it.ok)
    completeness = round(100 * done_weight / required_weight) if required_weight else 100
    supplement, review = _unique(supplement), _unique(review)
    status: Status = "needs_supplement" if supplement else "collected"
    failed_codes = [sorted({c.code for c in failed[i]}) if i in failed else [] for i in range(len(docs))]
    return Assessment(loan_type=loan_type, application_date=application_date, documents=docs, checklist=items,
                      completeness=completeness, status=status, supplement=supplement, review=review,
                      failed_codes=failed_codes)  # fmt: skip


def _with_waivers(doc: DocumentResult, waived: Mapping[str, tuple[str, str]]) -> DocumentResult:
    checks = [
        c.model_copy(update={"ok": True, "waived_by": waived[c.code][0], "waived_reason": waived[c.code][1]})
        if not c.ok and c.code in waived else c
        for c in doc.checks
    ]  # fmt: skip
    return doc.model_copy(update={"checks": checks})


def _unique(findings: list[Finding]) -> list[Finding]:
    # Three unreadable uploads need one request to the applicant, not three identical ones.
    return list({(f.code, f.doc_type, f.message_zh, f.message_en): f for f in findings}.values())


__all__ = ["Assessment", "Checklist", "ChecklistItem", "Finding", "Thresholds", "assess", "load_checklist", "options_for"]
