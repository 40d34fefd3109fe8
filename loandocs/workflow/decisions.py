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

from loandocs.errors import LoanDocsError
from loandocs.kinds.values import InvalidCorrection
from loandocs.models import DocumentResult
from loandocs.models.status import CLOSED, FINISHED, ApplicationStatus, DocumentStatus
from loandocs.rules.assessment import Assessment, Finding
from loandocs.rules.checklist import Checklist
from loandocs.store import repository as repo
from loandocs.store import review as store
from loandocs.workflow import review as rules
from loandocs.workflow.application import ApplicationClosed, assess_application, reassess_after_review

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
    reassess_after_review(session, actor, app, checklist)
    app = repo.get_application(session, app.id)
    return Corrected(correction, index, app, assess_application(session, app, checklist))


class CheckNotFailing(LoanDocsError):
    code = "check_not_failing"
    http_status = 409


@dataclass(frozen=True)
class Waived:
    waiver: repo.WaiverRecord
    part: int
    application: repo.ApplicationRecord  # after re-assessment
    assessment: Assessment | None


def failing_checks(assessment: Assessment | None, files: list[store.FileResults]) -> list[tuple[str, int, str, str]]:
    """(document id, part, doc_type, code) of every check a reviewer could waive now: what
    fails on each finished document, its own checks and the cross-document ones."""
    if assessment is None:
        return []
    owners = [(f.document.id, i) for f in files if f.document.status in FINISHED for i in range(len(f.parts))]
    return [
        (doc_id, part, doc.doc_type, code)
        for (doc_id, part), doc, codes in zip(owners, assessment.documents, assessment.failed_codes, strict=True)
        for code in codes
    ]


def waive_check(
    session: Session,
    doc_id: str,
    code: str,
    *,
    part: int | None,
    doc_type: str | None,
    reason: str,
    actor: str,
    checklist: Checklist | None = None,
) -> Waived:
    """A reviewer overrules a failing machine check on one document of this file, with a reason.
    Recorded in the status history; kept through re-processing; the application is re-assessed
    and may move on (a needs_supplement the machine decided goes forward)."""
    doc = repo.get_document(session, doc_id)
    app = repo.get_application(session, doc.application_id)
    if app.status in CLOSED:
        raise ApplicationClosed(f"application is {app.status}; its checks can no longer be waived")
    files = store.files_of(session, [app.id])[app.id]
    this = next((f for f in files if f.document.id == doc_id), None)
    if this is None or doc.status != DocumentStatus.EXTRACTED or not this.parts:
        raise rules.NotExtracted(f"document {doc_id} has no extracted checks to waive")
    index = _part(this.parts, part, doc_type)
    kind = this.parts[index].doc_type
    failing = {(d, p, c) for d, p, _, c in failing_checks(assess_application(session, app, checklist), files)}
    if (doc_id, index, code) not in failing:
        raise CheckNotFailing(f"{code} does not fail on part {index} ({kind}) of document {doc_id}")
    waiver = repo.add_waiver(session, doc_id, code, waived_by=actor, reason=reason, doc_type=kind if len(this.parts) > 1 else None)
    repo.note_history(session, app.id, actor, f"waived {code} on {kind}: {reason}")
    reassess_after_review(session, actor, app, checklist, why=f"reviewer waived {code}")
    app = repo.get_application(session, app.id)
    return Waived(waiver, index, app, assess_application(session, app, checklist))


def _part(parts: list[DocumentResult], part: int | None, doc_type: str | None) -> int:
    if part is not None:
        if not 0 <= part < len(parts):
            raise InvalidCorrection(f"part {part} does not exist; the file has {len(parts)} document(s)")
        return part
    found = [i for i, p in enumerate(parts) if doc_type in (None, p.doc_type)]
    if len(found) != 1:
        raise InvalidCorrection("the file holds several documents; say which with part or doc_type")
    return found[0]
