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
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from loandocs.errors import ConfigError
from loandocs.rules.catalog import make_check
from loandocs.extractor.options import PipelineOptions
from loandocs.models import Check, DocumentResult

DEFAULT_PATH = Path(__file__).with_name("checklist.yaml")
MaterialType = Literal["id_card_front", "id_card_back", "income_certificate", "bank_statement"]
Status = Literal["collected", "needs_supplement"]


# ---- the checklist file -------------------------------------------------------------------


class _Strict(BaseModel):
    # Unknown keys are errors: a misspelt threshold must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


class Thresholds(_Strict):
    certificate_max_age_days: int = Field(default=90, ge=0)
    statement_min_days: int = Field(default=175, ge=1)
    statement_max_age_days: int = Field(default=30, ge=0)
    income_mismatch_ratio: float = Field(default=0.30, gt=0)
    min_age: int = Field(default=18, ge=0)
    max_age: int = Field(default=65, ge=0)
    low_confidence_threshold: float = Field(default=0.80, ge=0, le=1)


# Thresholds that document-level validation reads from PipelineOptions (same names).
_OPTION_KEYS = tuple(k for k in Thresholds.model_fields if k != "income_mismatch_ratio")


class Material(_Strict):
    doc_type: MaterialType
    name_zh: str
    name_en: str


class MaterialRef(_Strict):
    material: str
    weight: float = Field(gt=0)
    required: bool = True


class LoanType(_Strict):
    name_zh: str
    name_en: str
    materials: list[MaterialRef] = Field(min_length=1)
    thresholds: dict[str, Any] = Field(default_factory=dict)  # overrides of defaults.thresholds


class Defaults(_Strict):
    thresholds: Thresholds = Field(default_factory=Thresholds)


class Checklist(_Strict):
    version: int = 1
    materials: dict[str, Material]
    defaults: Defaults = Field(default_factory=Defaults)
    loan_types: dict[str, LoanType] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_references(self) -> Checklist:
        for key, lt in self.loan_types.items():
            names = [r.material for r in lt.materials]
            unknown = [n for n in names if n not in self.materials]
            if unknown:
                raise ValueError(f"loan type {key!r} names unknown material(s) {unknown}")
            if len(set(names)) != len(names):
                raise ValueError(f"loan type {key!r} lists a material twice")
            if not any(r.required for r in lt.materials):
                raise ValueError(f"loan type {key!r} has no required material")
            try:
                self.thresholds(key)
            except ValidationError as exc:
                raise ValueError(f"loan type {key!r} thresholds: {_errors(exc)}") from None
        return self

    def loan_type(self, key: str) -> LoanType:
        try:
            return self.loan_types[key]
        except KeyError:
            known = ", ".join(sorted(self.loan_types))
            raise ConfigError(f"unknown loan type {key!r}; known: {known}", code="unknown_loan_type") from None

    def thresholds(self, key: str) -> Thresholds:
        lt = self.loan_type(key)
        return Thresholds.model_validate({**self.defaults.thresholds.model_dump(), **lt.thresholds})


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors())


def load_checklist(path: str | Path | None = None) -> Checklist:
    """The checklist at ``path`` (default: the packaged ``checklist.yaml``, read once)."""
    return _default_checklist() if path is None else _load(Path(path))


@lru_cache(maxsize=1)
def _default_checklist() -> Checklist:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Checklist:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read checklist {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"checklist {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"checklist {path} must be a mapping with 'materials' and 'loan_types'")
    try:
        return Checklist.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"checklist {path} is invalid: {_errors(exc)}") from None


def options_for(loan_type: str, base: PipelineOptions, checklist: Checklist | None = None) -> PipelineOptions:
    """``base`` with the loan type's thresholds for the document-level checks."""
    t = (checklist or load_checklist()).thresholds(loan_type)
    return base.model_copy(update={k: getattr(t, k) for k in _OPTION_KEYS})


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


# ---- cross-document checks ----------------------------------------------------------------

NAME_FIELDS = {"id_card_front": "name", "income_certificate": "employee_name", "bank_statement": "account_holder"}
ID_FIELDS = {"id_card_front": "id_number", "income_certificate": "id_number"}
# The ID card is the authority: when values differ, the other document is the one to redo.
_PRECEDENCE = ("id_card_front", "income_certificate", "bank_statement")
# Fields that identify "the same document" when the bytes differ (a re-scan, a re-export).
DUPLICATE_KEYS = {
    "id_card_front": ("id_number", "name"),
    "id_card_back": ("issuing_authority", "valid_from", "valid_until"),
    "income_certificate": ("employee_name", "employer", "monthly_income", "issue_date"),
    "bank_statement": ("account_number", "period_start", "period_end"),
}
_DOTS = re.compile(r"[•・．.]")  # middle-dot variants in names of some minorities (阿卜杜·热合曼)


def _value(doc: DocumentResult, name: str) -> Any:
    f = doc.fields.get(name)
    return None if f is None or f.value in (None, "") else f.value


def _norm_name(v: Any) -> str:
    return _DOTS.sub("·", re.sub(r"\s+", "", str(v)))  # \s covers the full-width space too


def _norm_id(v: Any) -> str:
    return re.sub(r"\s+", "", str(v)).upper()


def _mismatches(docs, live, fields: dict[str, str], norm, code: str) -> list[tuple[int, Check]]:
    seen = [(i, norm(v)) for i in live if docs[i].doc_type in fields and (v := _value(docs[i], fields[docs[i].doc_type])) is not None]
    if not seen:
        return []
    seen.sort(key=lambda t: (_PRECEDENCE.index(docs[t[0]].doc_type), t[0]))
    ref = seen[0][1]
    return [(i, make_check(code, False, [fields[docs[i].doc_type]])) for i, v in seen if v != ref]


def _income(docs, live, ratio: float) -> list[tuple[int, Check]]:
    certs = [(i, float(v)) for i in live if docs[i].doc_type == "income_certificate" and (v := _value(docs[i], "monthly_income")) is not None]
    salaries = [float(v) for i in live if docs[i].doc_type == "bank_statement" and (v := _value(docs[i], "monthly_salary_estimate")) is not None]
    out = []
    for i, cert in certs:
        if cert > 0 and any(abs(cert - s) / cert > ratio for s in salaries):
            out.append((i, make_check("income_mismatch", False, ["monthly_income"])))
    return out


def _duplicates(docs, live, file_hashes: list[str] | None) -> list[tuple[int, Check]]:
    seen: set[tuple] = set()
    out = []
    for i in live:
        d = docs[i]
        # One file may hold several documents (front and back on one scan), so the file hash
        # alone does not make a duplicate: the same type from the same pages does.
        keys = [("file", file_hashes[i], d.doc_type, tuple(d.pages))] if file_hashes else []
        values = tuple(_value(d, f) for f in DUPLICATE_KEYS.get(d.doc_type, ()))
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
) -> Assessment:
    """Assess one application's documents.

    ``file_hashes`` (parallel to ``documents``) lets a re-upload of the same file count as a
    duplicate. ``revalidate`` re-runs the document-level checks with this loan type's
    thresholds and ``application_date``: use it when the documents were extracted with other
    options, or after reviewer corrections. Documents that carry an ``error`` (the file could
    not be read) are listed but not judged; the material they were meant to be stays missing.
    """
    cl = checklist or load_checklist()
    lt = cl.loan_type(loan_type)
    t = cl.thresholds(loan_type)
    if file_hashes is not None and len(file_hashes) != len(documents):
        raise ValueError("file_hashes must be parallel to documents")
    docs = list(documents)
    if revalidate:
        from loandocs.rules.validation import validate  # pulls in the parsers; only when asked

        opts = options_for(loan_type, PipelineOptions(application_date=application_date), cl)
        docs = [d if d.error else d.model_copy(update={"checks": validate(d, opts)}) for d in docs]
    live = [i for i, d in enumerate(docs) if d.error is None]

    failed: dict[int, list[Check]] = {i: [c for c in docs[i].checks if not c.ok] for i in live}
    cross = (
        _mismatches(docs, live, NAME_FIELDS, _norm_name, "name_mismatch")
        + _mismatches(docs, live, ID_FIELDS, _norm_id, "id_number_mismatch")
        + _income(docs, live, t.income_mismatch_ratio)
        + _duplicates(docs, live, file_hashes)
    )
    for i, check in cross:
        failed[i].append(check)

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
    status = "needs_supplement" if supplement else "collected"
    return Assessment(loan_type=loan_type, application_date=application_date, documents=docs, checklist=items,
                      completeness=completeness, status=status, supplement=supplement, review=review)  # fmt: skip


def _unique(findings: list[Finding]) -> list[Finding]:
    # Three unreadable uploads need one request to the applicant, not three identical ones.
    return list({(f.code, f.doc_type, f.message_zh, f.message_en): f for f in findings}.values())


__all__ = ["Assessment", "Checklist", "ChecklistItem", "Finding", "Thresholds", "assess", "load_checklist", "options_for"]
