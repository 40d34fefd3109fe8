"""Document-level checks, one document at a time: the kind's own checks plus what every kind
shares (wrong type, low confidence, unreadable image). Cross-document checks belong to the
application assessment (``loandocs.rules.assessment``)."""

from __future__ import annotations

import datetime as dt

from loandocs import kinds
from loandocs.models import Check, DocumentResult
from loandocs.models.policy import Thresholds
from loandocs.rules.catalog import QUALITY_EN, QUALITY_ZH, make_check

# A card cut off at the frame is incomplete whatever was read from it (KYC needs the whole
# card). Blur, glare, darkness and a small image only matter when they cost us fields.
SEVERE = {"card_cut_off"}


def validate(doc: DocumentResult, thresholds: Thresholds, today: dt.date) -> list[Check]:
    kind = kinds.get(doc.doc_type)
    problems = sorted({p for q in doc.quality for p in q.problems})
    if kind is None:
        if problems:
            # Nothing recognisable on a poor image: ask for a better picture, not for
            # another document.
            return [_unreadable(problems, [])]
        return [make_check("wrong_document_type", False)]
    f = {k: v.value for k, v in doc.fields.items() if v.value not in (None, "")}
    checks = kind.checks(doc, f, kinds.CheckContext(thresholds=thresholds, today=today))

    required = kind.required_fields
    low = [k for k in required if k in doc.fields and doc.fields[k].source != "reviewer" and doc.fields[k].confidence < thresholds.low_confidence_threshold]
    # Rows read with doubt (OCR, a sign inferred from the balance) are named too.
    low += [f"transactions[{i}]" for i, t in enumerate(doc.transactions or []) if t.confidence < thresholds.low_confidence_threshold]
    checks.append(make_check("low_confidence", not low, low))

    absent = [k for k in required if k not in f]
    if doc.quality and all(q.text_layer for q in doc.quality):
        # Born-digital: there was no photo to retake. What the document does not show is for
        # the reviewer (a missing table is the kind's own check, e.g. table_not_found).
        checks.append(make_check("field_missing", not absent, absent))
        checks.append(_unreadable([], []))  # listed, and passing: the catalogue's shape per kind stays
        return checks

    missing = [k for k in kind.key_fields if k not in f]
    if kind.needs_transactions and not doc.transactions and ((doc.notes or {}).get("table_found") is not False or problems):
        # No rows on a poor image: the photo is the likely cause. A clean page where no table
        # was found at all gets table_not_found from the kind instead.
        missing.append("transactions")
    reasons = [p for p in problems if p in SEVERE]
    if missing:
        reasons.append("fields_unreadable")
    elif problems and absent:
        # Blur or glare on their own are fine if everything was read; with fields missing
        # they are the likely reason and the applicant should retake it. A field read with
        # doubt is not enough: a watermark, a stamp or a value failing its grammar lowers
        # confidence on a clean image too, and low_confidence sends it to a reviewer.
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
