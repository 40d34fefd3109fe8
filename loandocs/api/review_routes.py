"""The reviewer API under ``/v1``: queue, corrections, claim, decisions, supplement requests,
disbursement. The review pages (``loandocs.api.web``) call these same functions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from loandocs import workflow
from loandocs.api import review_schemas as rs
from loandocs.api.auth import REVIEWER, STAFF, Caller, record
from loandocs.api.deps import SessionDep
from loandocs.kinds import identity_number
from loandocs.masking import mask_field, mask_id_number
from loandocs.rules.assessment import Assessment
from loandocs.store import repository as repo
from loandocs.store import review as store
from loandocs.workflow import decisions
from loandocs.workflow import review as rules

router = APIRouter(prefix="/v1", tags=["review"])

SCAN_CHUNK = 500  # applications assessed at a time when a flag filter needs all of them
AUTH = {401: {"description": "auth_required, invalid_token"}, 403: {"description": "forbidden, csrf_failed"}}
NOT_FOUND = {404: {"description": "not_found"}}
MOVE = {**AUTH, **NOT_FOUND, 409: {"description": "illegal_transition"}}


# -- assessment -----------------------------------------------------------------------------

assessment_of = workflow.assessment_of
assess_application = workflow.assess_application


def flags(a: Assessment | None) -> list[str]:
    return sorted({f.code for f in (a.supplement + a.review)}) if a else []


# -- queue ----------------------------------------------------------------------------------

def _item(app: repo.ApplicationRecord, files: list[store.FileResults], a: Assessment | None,
          now: dt.datetime) -> rs.QueueItemOut:
    number = identity_number(p for f in files for p in f.parts)
    return rs.QueueItemOut(
        id=app.id, application_no=app.application_no, applicant_name=app.applicant_name,
        id_number=mask_id_number(number) if number else None, loan_type=app.loan_type, amount=app.amount,
        term_months=app.term_months, application_date=app.application_date, status=app.status,
        created_at=app.created_at, updated_at=app.updated_at,
        age_hours=round((now - app.created_at).total_seconds() / 3600, 1),
        completeness=a.completeness if a else None, flags=flags(a),
    )


def build_queue(session: Session, caller: Caller, q: store.QueueQuery, *, flag: str | None, limit: int,
                offset: int) -> rs.QueueOut:
    now = dt.datetime.now(dt.timezone.utc)
    counts = store.status_counts(session, q)
    rows: list[rs.QueueItemOut] = []
    if flag:
        # Flags come from the assessment, which is not stored: every matching application is
        # assessed (no OCR, milliseconds each), a chunk at a time to bound memory.
        matched, start = [], 0
        while True:
            _, apps = store.queue(session, q, limit=SCAN_CHUNK, offset=start)
            files = store.files_of(session, [a.id for a in apps])
            for app in apps:
                a = assessment_of(app, files[app.id])
                if flag in flags(a):
                    matched.append(_item(app, files[app.id], a, now))
            if len(apps) < SCAN_CHUNK:
                break
            start += SCAN_CHUNK
        total, rows = len(matched), matched[offset:offset + limit]
    else:
        total, apps = store.queue(session, q, limit=limit, offset=offset)
        files = store.files_of(session, [a.id for a in apps])
        rows = [_item(app, files[app.id], assessment_of(app, files[app.id]), now) for app in apps]
    record(session, caller, "list", "review_queue", None, None, count=len(rows))
    return rs.QueueOut(items=rows, total=total, counts=counts, limit=limit, offset=offset)


@router.get("/review/queue", response_model=rs.QueueOut, responses=AUTH)
def review_queue(
    session: SessionDep,
    caller: Annotated[Caller, Depends(STAFF)],
    status_: Annotated[list[str] | None, Query(alias="status", description="default: collected, under_review, needs_supplement")] = None,
    loan_type: str | None = None,
    date_from: Annotated[dt.date | None, Query(description="application date from (inclusive)")] = None,
    date_to: Annotated[dt.date | None, Query(description="application date to (inclusive)")] = None,
    flag: Annotated[str | None, Query(description="a check code that failed, e.g. balance_inconsistent")] = None,
    sort: Literal["oldest", "newest"] = "oldest",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> rs.QueueOut:
    q = store.QueueQuery(statuses=tuple(status_) if status_ else store.QUEUE_STATUSES, loan_type=loan_type or None,
                         date_from=date_from, date_to=date_to, newest_first=sort == "newest")
    return build_queue(session, caller, q, flag=flag or None, limit=limit, offset=offset)


# -- actions and moves ----------------------------------------------------------------------

def actions_for(app: repo.ApplicationRecord, files: list[store.FileResults]) -> rs.ActionsOut:
    a = assessment_of(app, files)
    closed = app.status in workflow.CLOSED
    return rs.ActionsOut(
        application_id=app.id, status=app.status,
        actions=[rs.ActionOut(action=x.name, to_status=x.to_status, label_zh=x.label_zh, label_en=x.label_en)
                 for x in rules.legal_actions(app.status)],
        supplement_reasons=rules.supplement_reasons(app.loan_type, a.supplement if a else [], a.review if a else []),
        waivable=[] if closed else [rs.WaivableOut(document_id=d, part=p, doc_type=t, code=c)
                                    for d, p, t, c in decisions.failing_checks(a, files)],
    )


@router.get("/applications/{app_id}/actions", response_model=rs.ActionsOut, responses={**AUTH, **NOT_FOUND})
def application_actions(app_id: str, session: SessionDep, caller: Annotated[Caller, Depends(STAFF)]) -> rs.ActionsOut:
    app = repo.get_application(session, app_id)
    return actions_for(app, store.files_of(session, [app.id])[app.id])


def _state(app: repo.ApplicationRecord) -> rs.ReviewStateOut:
    reqs = app.supplement_requirements if isinstance(app.supplement_requirements, list) else []
    return rs.ReviewStateOut(id=app.id, application_no=app.application_no, status=app.status,
                             review_opinion=app.review_opinion, supplement_requirements=reqs,
                             disbursement_date=app.disbursement_date, disbursement_amount=app.disbursement_amount)


@router.post("/applications/{app_id}/claim", response_model=rs.ReviewStateOut, responses=MOVE)
def claim(app_id: str, session: SessionDep, caller: Annotated[Caller, Depends(REVIEWER)],
          body: rs.ClaimIn | None = None) -> rs.ReviewStateOut:
    app = decisions.claim(session, app_id, actor=caller.name, note=(body.note if body else "") or "")
    record(session, caller, "claim", "application", app_id, app_id)
    return _state(app)


@router.post("/applications/{app_id}/decision", response_model=rs.ReviewStateOut, responses=MOVE)
def decide(app_id: str, body: rs.DecisionIn, session: SessionDep,
           caller: Annotated[Caller, Depends(REVIEWER)]) -> rs.ReviewStateOut:
    app = decisions.decide(session, app_id, body.decision, actor=caller.name, opinion=body.opinion)
    record(session, caller, body.decision, "application", app_id, app_id)
    return _state(app)


@router.post("/applications/{app_id}/supplement-request", response_model=rs.ReviewStateOut,
             responses={**MOVE, 422: {"description": "invalid_request, unknown_supplement_reason"}})
def request_supplement(app_id: str, body: rs.SupplementIn, session: SessionDep,
                       caller: Annotated[Caller, Depends(REVIEWER)]) -> rs.ReviewStateOut:
    app, chosen = decisions.request_supplement(session, app_id, [(r.code, r.doc_type) for r in body.reasons],
                                               note=body.note, actor=caller.name)
    record(session, caller, "request_supplement", "application", app_id, app_id, codes=[f.code for f in chosen])
    return _state(app)


@router.post("/applications/{app_id}/disbursement", response_model=rs.ReviewStateOut,
             responses={**MOVE, 422: {"description": "invalid_request, disbursement_exceeds_amount"}})
def disburse(app_id: str, body: rs.DisbursementIn, session: SessionDep,
             caller: Annotated[Caller, Depends(REVIEWER)]) -> rs.ReviewStateOut:
    app = decisions.disburse(session, app_id, actor=caller.name, date=body.date, amount=body.amount)
    record(session, caller, "disburse", "application", app_id, app_id)
    return _state(app)


# -- corrections ----------------------------------------------------------------------------

def _correction_out(c: repo.CorrectionRecord, caller: Caller) -> rs.CorrectionOut:
    value = c.value if caller.sees_identifiers else mask_field(c.field, c.value)
    return rs.CorrectionOut(id=c.id, document_id=c.document_id, doc_type=c.doc_type, field=c.field, value=value,
                            reason=c.reason, corrected_by=c.corrected_by, corrected_at=c.corrected_at)


def corrections_of(session: Session, caller: Caller, doc: repo.DocumentRecord) -> rs.CorrectionsOut:
    items = repo.list_corrections(session, doc.id)
    ext = repo.latest_extraction(session, doc.id)
    machine = []
    for i, part in enumerate(ext.result if ext else []):
        kind = part.get("doc_type", "unknown")
        for name in sorted({c.field for c in items if c.doc_type in (None, kind)}):
            f = (part.get("fields") or {}).get(name) or {}
            value = f.get("value") if caller.sees_identifiers else mask_field(name, f.get("value"))
            machine.append(rs.MachineValueOut(part=i, doc_type=kind, field=name, value=value,
                                              confidence=f.get("confidence", 0.0)))
    record(session, caller, "read", "corrections", doc.id, doc.application_id)
    return rs.CorrectionsOut(document_id=doc.id, items=[_correction_out(c, caller) for c in items], machine=machine)


@router.get("/documents/{doc_id}/corrections", response_model=rs.CorrectionsOut, responses={**AUTH, **NOT_FOUND})
def list_corrections(doc_id: str, session: SessionDep, caller: Annotated[Caller, Depends(STAFF)]) -> rs.CorrectionsOut:
    return corrections_of(session, caller, repo.get_document(session, doc_id))


@router.post("/documents/{doc_id}/corrections", status_code=status.HTTP_201_CREATED,
             response_model=rs.CorrectionResultOut,
             responses={**AUTH, **NOT_FOUND, 409: {"description": "application_closed, document_not_extracted"},
                        422: {"description": "invalid_request, invalid_correction"}})
def correct_field(doc_id: str, body: rs.CorrectionIn, session: SessionDep,
                  caller: Annotated[Caller, Depends(REVIEWER)]) -> rs.CorrectionResultOut:
    done = decisions.correct_field(session, doc_id, body.field, body.value, part=body.part, doc_type=body.doc_type,
                                   reason=body.reason, actor=caller.name)
    record(session, caller, "correct", "field", doc_id, done.application.id, field=body.field, part=done.part)
    a = done.assessment
    return rs.CorrectionResultOut(correction=_correction_out(done.correction, caller), status=done.application.status,
                                  completeness=a.completeness if a else None,
                                  supplement=a.supplement if a else [], review=a.review if a else [])


# -- waivers --------------------------------------------------------------------------------

def _waiver_out(w: repo.WaiverRecord) -> rs.WaiverOut:
    return rs.WaiverOut(id=w.id, document_id=w.document_id, doc_type=w.doc_type, code=w.code, reason=w.reason,
                        waived_by=w.waived_by, waived_at=w.waived_at)


@router.get("/documents/{doc_id}/waivers", response_model=list[rs.WaiverOut], responses={**AUTH, **NOT_FOUND})
def list_waivers(doc_id: str, session: SessionDep, caller: Annotated[Caller, Depends(STAFF)]) -> list[rs.WaiverOut]:
    doc = repo.get_document(session, doc_id)
    record(session, caller, "read", "waivers", doc.id, doc.application_id)
    return [_waiver_out(w) for w in repo.list_waivers(session, doc.id)]


@router.post("/documents/{doc_id}/waivers", status_code=status.HTTP_201_CREATED, response_model=rs.WaiverResultOut,
             responses={**AUTH, **NOT_FOUND,
                        409: {"description": "application_closed, document_not_extracted, check_not_failing"},
                        422: {"description": "invalid_request, invalid_correction"}})
def waive_check(doc_id: str, body: rs.WaiverIn, session: SessionDep,
                caller: Annotated[Caller, Depends(REVIEWER)]) -> rs.WaiverResultOut:
    """Overrule a failing machine check on one document, with a reason (audited, in the
    history, kept through re-processing); the application is re-assessed."""
    done = decisions.waive_check(session, doc_id, body.code, part=body.part, doc_type=body.doc_type,
                                 reason=body.reason, actor=caller.name)
    record(session, caller, "waive", "check", doc_id, done.application.id, code=body.code, part=done.part)
    a = done.assessment
    return rs.WaiverResultOut(waiver=_waiver_out(done.waiver), status=done.application.status,
                              completeness=a.completeness if a else None,
                              supplement=a.supplement if a else [], review=a.review if a else [])
