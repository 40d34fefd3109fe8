"""The application's life, as use cases the API, the pages and the worker call: accept an upload,
re-assess once the documents are read, re-assess after a correction, and the assessment a view
is built from. Statuses move only here (and through the repository's transition check)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from loandocs.config import get_settings
from loandocs.errors import ConfigError, LoanDocsError
from loandocs.models.status import CLOSED, PENDING, ApplicationStatus, DocumentStatus
from loandocs.rules.assessment import Assessment, assess
from loandocs.rules.checklist import Checklist, load_checklist
from loandocs.store import DocumentStore
from loandocs.store import repository as repo
from loandocs.store import review as store

log = logging.getLogger(__name__)

A = ApplicationStatus
ACTOR = "system:worker"
REPROCESS_ACTOR = "reprocess"  # status changes caused by ``loandocs reprocess`` are recorded as this


class ApplicationClosed(LoanDocsError):
    code = "application_closed"
    http_status = 409


class ConsentMissing(LoanDocsError):
    code = "consent_required"
    http_status = 422


class UnknownLoanType(LoanDocsError):
    code = "unknown_loan_type"
    http_status = 422


@dataclass(frozen=True)
class NewApplication:
    applicant_name: str
    loan_type: str
    amount: Decimal
    term_months: int
    purpose: str
    application_date: dt.date | None
    consent_agreed: bool
    consent_version: str
    consent_channel: str


def create_application(session: Session, new: NewApplication, *, ip: str | None) -> tuple[repo.ApplicationRecord, str]:
    """A new application with its consent recorded (DESIGN: before any upload is accepted).
    Returns it and the applicant's token, which is stored only as a hash."""
    if not new.consent_agreed:
        raise ConsentMissing("consent.agreed must be true")
    try:
        load_checklist().loan_type(new.loan_type)
    except ConfigError as exc:
        raise UnknownLoanType(exc.message) from None
    token, token_hash = repo.new_applicant_token()
    app = repo.create_application(
        session,
        applicant_name=new.applicant_name,
        loan_type=new.loan_type,
        amount=new.amount,
        term_months=new.term_months,
        purpose=new.purpose,
        application_date=new.application_date,
        applicant_token_hash=token_hash,
    )
    repo.record_consent(session, app.id, text_version=new.consent_version, channel=new.consent_channel, ip=ip)
    return app, token


def status_of(session: Session, application_no: str) -> tuple[repo.ApplicationRecord, list[dict[str, object]]]:
    """The applicant's lookup by number: the application and what it must supplement (the list
    stored when it was moved to needs_supplement)."""
    app = repo.get_application_by_no(session, application_no)
    supplement = app.supplement_requirements if isinstance(app.supplement_requirements, list) else []
    return app, supplement


def policy(checklist: Checklist | None = None) -> Checklist:
    """The checklist in force: the one given, else the packaged one with this environment's
    threshold overrides."""
    return checklist if checklist is not None else get_settings().checklist()


def assessment_of(app: repo.ApplicationRecord, files: list[store.FileResults], checklist: Checklist | None = None) -> Assessment | None:
    """The application's finished documents against its checklist, re-validated so reviewer
    corrections count; None while nothing has been read."""
    parts, hashes = store.finished_parts(files)
    if not parts:
        return None
    return assess(parts, app.loan_type, app.application_date, policy(checklist), file_hashes=hashes, revalidate=True, waivers=store.finished_waivers(files))


def assess_application(session: Session, app: repo.ApplicationRecord, checklist: Checklist | None = None) -> Assessment | None:
    return assessment_of(app, store.files_of(session, [app.id])[app.id], checklist)


@dataclass(frozen=True)
class ApplicationView:
    """An application as its views show it: every file (finished or not), the assessment of
    every part read so far, and for each part the index of its file."""

    application: repo.ApplicationRecord
    files: list[store.FileResults]
    assessment: Assessment
    owners: list[int]  # owners[k]: index into files of the assessment's k-th document
    history: list[repo.HistoryRecord]


def view_of(session: Session, app_id: str, checklist: Checklist | None = None) -> ApplicationView:
    app = repo.get_application(session, app_id)
    files = store.files_of(session, [app_id])[app_id]  # every file, in three queries
    parts = [p for f in files for p in f.parts]
    owners = [n for n, f in enumerate(files) for _ in f.parts]
    hashes = [f.document.sha256 for f in files for _ in f.parts]
    # With nothing extracted yet the checklist shows nothing present and completeness 0;
    # missing materials are not asked for while the uploads are still being read.
    result = assess(
        parts, app.loan_type, app.application_date, policy(checklist), file_hashes=hashes, revalidate=bool(parts),
        waivers=store.waivers_by_part(files),
    )  # fmt: skip
    if not parts:
        result = result.model_copy(update={"supplement": [], "review": []})
    return ApplicationView(app, files, result, owners, repo.status_history(session, app_id))


def reassess(s: Session, app_id: str, *, actor: str = ACTOR, note: str = "", checklist: Checklist | None = None) -> str | None:
    """Move the application once all its documents are done. Returns the new status, or None
    when nothing moved (documents still pending, or the application is past collection).

    Re-processing (``actor="reprocess"``) may also settle a ``needs_supplement`` application:
    when the new extractions complete it, it goes back through ``accepted`` to ``collected``,
    each step recorded with ``note`` (the run) as the reason; when it still needs supplementing,
    only the list of what to supplement is brought up to date. ``collected`` and later states
    are left alone: the transition table has no way back from them, and they are the
    reviewer's (who sees the new extraction and its checks).
    """
    # Lock the application row first (PostgreSQL), *then* count pending documents: of two
    # workers finishing the last two documents at once, the second to get the lock sees the
    # first one's commit, so exactly one of them decides.
    repo.lock_application(s, app_id)
    app = repo.get_application(s, app_id)
    reopen = actor == REPROCESS_ACTOR and app.status == A.NEEDS_SUPPLEMENT
    if app.status not in (A.SUBMITTED, A.ACCEPTED) and not reopen:
        if actor == REPROCESS_ACTOR:
            log.info("application %s is %s: re-processing leaves its status alone", app_id, app.status)
        return None  # needs_supplement goes back to accepted on a new upload; later states are the reviewer's
    if any(d.status in PENDING for d in repo.list_documents(s, app_id)):
        return None
    result = assess_application(s, app, checklist)
    if result is None:
        return None

    def why(text: str) -> str:
        return f"{note}: {text}" if note else text

    supplement = [f.model_dump(mode="json") for f in result.supplement]
    if reopen:
        if result.status != "collected":
            repo.set_supplement_requirements(s, app_id, supplement)
            return None
        repo.change_status(s, app_id, A.ACCEPTED, actor, why("re-assessed after re-processing"))
    elif app.status == A.SUBMITTED:
        repo.change_status(s, app_id, A.ACCEPTED, actor, why("documents received"))
    codes = sorted({f.code for f in result.supplement})
    if result.status == "collected":
        repo.change_status(s, app_id, A.COLLECTED, actor, why(f"completeness {result.completeness}"))
    else:
        repo.change_status(s, app_id, A.NEEDS_SUPPLEMENT, actor, why(",".join(codes) or "incomplete"))
    repo.set_supplement_requirements(s, app_id, supplement)
    return result.status


def reassess_after_review(
    session: Session, actor: str, app: repo.ApplicationRecord, checklist: Checklist | None = None, *, why: str = "reviewer correction"
) -> None:
    """Re-run the assessment's consequences after a reviewer's correction or waiver: an
    application the machine is still judging is judged again; one the machine sent back for
    something the reviewer settled goes forward.
    A reviewer's own supplement request and the states after collection stay as they are."""
    if app.status in (A.SUBMITTED, A.ACCEPTED):
        reassess(session, app.id, checklist=checklist)
        return
    if app.status != A.NEEDS_SUPPLEMENT:
        return
    move = store.last_move_to(session, app.id, A.NEEDS_SUPPLEMENT)
    if move is None or move.actor != ACTOR:
        return
    a = assess_application(session, app, checklist)
    if a is not None and not a.supplement:
        repo.change_status(session, app.id, A.ACCEPTED, actor=actor, reason=why)
        reassess(session, app.id, checklist=checklist)
    elif a is not None:
        repo.set_supplement_requirements(session, app.id, [f.model_dump(mode="json") for f in a.supplement])


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Accepted:
    document_id: str
    status: str


def accept_upload(
    session: Session,
    files: DocumentStore,
    app_id: str,
    upload: Upload,
    *,
    actor: str,
    enqueue: Callable[[str], object],
    audit: Callable[[str], None] = lambda doc_id: None,
) -> Accepted:
    """Store a checked upload, move a ``needs_supplement`` application back to ``accepted``,
    commit, then enqueue. The database is the source of truth: if the queue is down the
    document stays ``received`` and the sweeper enqueues it later, so the upload still counts."""
    app = repo.get_application(session, app_id)
    if app.status in CLOSED:
        raise ApplicationClosed(f"application is {app.status}; no more documents are accepted")
    key = files.put(upload.data)
    doc = repo.add_document(
        session, app_id, filename=upload.filename, content_type=upload.content_type, size=len(upload.data), sha256=upload.sha256, storage_key=key
    )
    audit(doc.id)
    if app.status == A.NEEDS_SUPPLEMENT:
        repo.change_status(session, app_id, A.ACCEPTED, actor=actor, reason="new upload")
    session.commit()
    try:
        enqueue(doc.id)
    except Exception:  # noqa: BLE001 - Redis down or unreachable
        log.warning("could not enqueue document %s; left received for the sweeper", doc.id, exc_info=True)
        return Accepted(doc.id, doc.status)
    return Accepted(doc.id, repo.mark_queued(session, doc.id) or DocumentStatus.RECEIVED)
