"""Out-schemas of an application and of a document, built from the workflow's view. Used by
the JSON routes and by the HTML pages alike; each records the read in the audit log and masks
what the caller's role may not see."""

from __future__ import annotations

from sqlalchemy.orm import Session

from loandocs import workflow
from loandocs.api import schemas as s
from loandocs.api.auth import Caller, record
from loandocs.api.privacy import visible
from loandocs.store import repository as repo
from loandocs.store import review


def application_out(session: Session, caller: Caller, app_id: str) -> s.ApplicationOut:
    view = workflow.view_of(session, app_id)
    app, result = view.application, view.assessment
    record(session, caller, "read", "application", app_id, app_id)
    by_file: list[list[s.DocumentPartOut]] = [[] for _ in view.files]
    for k, part in enumerate(result.documents):
        part = visible(caller, part)
        by_file[view.owners[k]].append(s.DocumentPartOut(doc_type=part.doc_type, pages=part.pages, fields=part.fields,
                                                         checks=part.checks))
    documents = [
        s.ApplicationDocumentOut(
            id=d.id, filename=d.filename, status=d.status, error_code=d.error_code, doc_type=d.doc_type,
            fields=by_file[n][0].fields if by_file[n] else {},
            checks=[c for p in by_file[n] for c in p.checks], parts=by_file[n],
        )
        for n, d in enumerate(f.document for f in view.files)
    ]
    history = [s.HistoryOut.model_validate(h, from_attributes=True) for h in view.history]
    return s.ApplicationOut(
        id=app.id, application_no=app.application_no, applicant_name=app.applicant_name, loan_type=app.loan_type,
        amount=app.amount, term_months=app.term_months, purpose=app.purpose, application_date=app.application_date,
        status=app.status, completeness=result.completeness, checklist=result.checklist, documents=documents,
        supplement=result.supplement, review=result.review, history=history,
    )


def document_out(session: Session, caller: Caller, doc_id: str) -> s.DocumentOut:
    """One uploaded file: its latest extraction's documents, reviewer corrections on top."""
    doc = repo.get_document(session, doc_id)
    ext = repo.latest_extraction(session, doc.id)
    corrections = repo.list_corrections(session, doc.id) if ext is not None else []
    results = [visible(caller, review.apply_corrections(part, corrections)) for part in (ext.result if ext else [])]
    record(session, caller, "read", "document", doc_id, doc.application_id)
    return s.DocumentOut(id=doc.id, application_id=doc.application_id, filename=doc.filename, status=doc.status,
                         error_code=doc.error_code, error_message=doc.error_message, doc_type=doc.doc_type,
                         extraction_version=ext.version if ext else None, documents=results)
