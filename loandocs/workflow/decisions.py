"""The reviewer's use cases: claim, decide, request a supplement, record a disbursement, and
correct a field. Each checks its rule, moves the application through the repository (whose
transition table refuses an illegal move with 409) and returns the new record; the caller
audits and answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sqlalchemy.orm import Session

from loandocs.models.status import CLOSED, ApplicationStatus, DocumentStatus
from loandocs.rules.assessment import Assessment, Finding
from loandocs.rules.checklist import Checklist
from loandocs.store import repository as repo
from loandocs.store import review as store
from loandocs.workflow import review as rules
from loandocs.workflow.application import ApplicationClosed, assess_application, reassess_after_correction

A = ApplicationStatus


def claim(session: Session, app_id: str, *, actor: str, note: str = "") -> repo.ApplicationRecord:
    return repo.change_status(session, app_id, A.UNDER_REVIEW, actor=actor, reason=note or "claimed")


def decide(session: Session, app_id: str, decision: Literal["approve", "reject"], *, actor: str, opinion: str) -> repo.ApplicationRecord:
    to = A.APPROVED if decision == "approve" else A.REJECTED
    return store.decide(session, app_id, to, actor=actor, opinion=opinion)


def request_supplement(
    session: Session, app_id: str, reasons: list[tuple[str, str]], *, note: str | None, actor: str, checklist: Checklist | None = None
) -> tuple[repo.ApplicationRecord, list[Finding]]:
    """Send the application back with reasons chosen from those offered for it (``(code,
    doc_type)`` pairs) and the reviewer's own note."""
    app = repo.get_application(session, app_id)
    a = assess_application(session, app, checklist)
    offered = {(f.code, f.doc_type): f for f in rules.supplement_reasons(app.loan_type, a.supplement if a else [], a.review if a else [])}
    chosen = []
    for code, doc_type in reasons:
        if (code, doc_type) not in offered:
            raise rules.UnknownSupplementReason(f"{code}/{doc_type} is not a reason offered for this application")
        chosen.append(offered[(code, doc_type)])
    if note:
        chosen.append(rules.note_finding(note))
    items = [{**f.model_dump(mode="json"), "source": "reviewer"} for f in chosen]
    app = store.request_supplement(session, app_id, items, actor=actor, reason=",".join(f.code for f in chosen))
    return app, chosen


def disburse(session: Session, app_id: str, *, actor: str, date: dt.date, amount: Decimal) -> repo.ApplicationRecord:
    app = repo.get_application(session, app_id)
    if amount > app.amount:
        raise rules.DisbursementTooLarge(f"{amount} is more than the {app.amount} applied for")
    return store.disburse(session, app_id, actor=actor, date=date, amount=amount)


@dataclass(frozen=True)
class Corrected:
    correction: repo.CorrectionRecord
    part: int  # which document of the file
    application: repo.ApplicationRecord  # after re-assessment
    assessment: Assessment | None


def correct_field(
    session: Session,
    doc_id: str,
    field: str,
    value: object,
    *,
    part: int | None,
    doc_type: str | None,
    reason: str,
    actor: str,
    checklist: Checklist | None = None,
) -> Corrected:
    """Keep a reviewer's value above the machine's (it survives re-processing) and re-assess."""
    doc = repo.get_document(session, doc_id)
    app = repo.get_application(session, doc.application_id)
    if app.status in CLOSED:
        raise ApplicationClosed(f"application is {app.status}; its documents can no longer be corrected")
    ext = repo.latest_extraction(session, doc_id)
    if ext is None or not ext.result or doc.status != DocumentStatus.EXTRACTED:
        raise rules.NotExtracted(f"document {doc_id} has no extracted fields to correct")
    index = rules.pick_part(ext.result, field, part=part, doc_type=doc_type)
    kind = ext.result[index].get("doc_type")
    stored = rules.coerce(field, value, kind)
    # A single-document file's correction follows the file even if re-processing reads it as
    # another type; in a mixed file it must name its document.
    correction = repo.add_correction(session, doc_id, field, stored, corrected_by=actor, reason=reason, doc_type=kind if len(ext.result) > 1 else None)
    reassess_after_correction(session, actor, app, checklist)
    app = repo.get_application(session, app.id)
    return Corrected(correction, index, app, assess_application(session, app, checklist))
