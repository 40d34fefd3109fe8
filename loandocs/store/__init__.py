"""Persistence: SQLAlchemy 2 tables and repository functions, and the document file store.

The API and workers use the repository functions (which return pydantic records) and
``DocumentStore``; nothing outside this package should need the ORM classes in ``tables``.
"""

from loandocs.store.db import default_url, make_engine, migrate, normalize_url, session_factory
from loandocs.store.files import Cipher, DocumentStore, IdentityCipher, StorageError
from loandocs.store.repository import (
    DOCUMENT_STATUSES,
    TRANSITIONS,
    ApplicationRecord,
    ConsentRecord,
    ConsentRequired,
    CorrectionRecord,
    DocumentRecord,
    EffectiveDocument,
    ExtractionRecord,
    HistoryRecord,
    IllegalTransition,
    NotFound,
    add_correction,
    add_document,
    add_extraction,
    change_status,
    create_application,
    effective_fields,
    get_application,
    get_application_by_no,
    get_document,
    hash_token,
    latest_extraction,
    list_corrections,
    list_documents,
    lock_application,
    new_applicant_token,
    record_consent,
    set_document_status,
    set_supplement_requirements,
    status_history,
    stuck_documents,
    verify_applicant_token,
)

__all__ = [name for name in dir() if not name.startswith("_")]
