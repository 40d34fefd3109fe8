"""Request (``*In``) and response (``*Out``) bodies. Routes build these from the repository's
records and the assessment; ORM objects never leave the store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from loandocs.models import Check, DocumentResult, ExtractedField
from loandocs.rules.assessment import ChecklistItem, Finding


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConsentIn(_In):
    agreed: bool = Field(description="must be true")
    version: str = Field(min_length=1, max_length=64, description="version of the consent text shown")
    channel: Literal["api", "web", "app", "branch"] = Field(default="api", description="where consent was given")


class ApplicationIn(_In):
    applicant_name: str = Field(min_length=1, max_length=200)
    loan_type: str = Field(min_length=1, max_length=64, description="a loan type of the checklist")
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    term_months: int = Field(ge=1, le=600)
    purpose: str = Field(default="", max_length=2000)
    application_date: dt.date | None = None
    consent: ConsentIn


class ApplicationCreatedOut(BaseModel):
    id: str
    application_no: str
    status: str
    applicant_token: str = Field(description="shown once; the applicant's key to this application")


class UploadOut(BaseModel):
    document_id: str
    status: str


class HistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    at: dt.datetime


class DocumentPartOut(BaseModel):
    doc_type: str
    pages: list[int]
    fields: dict[str, ExtractedField]
    checks: list[Check]


class ApplicationDocumentOut(BaseModel):
    id: str
    filename: str
    status: str
    error_code: str | None
    doc_type: str | None
    fields: dict[str, ExtractedField] = Field(description="fields of the file's first document")
    checks: list[Check] = Field(description="checks of all documents in the file")
    parts: list[DocumentPartOut] = Field(default_factory=list, description="every document found in the file")


class ApplicationOut(BaseModel):
    id: str
    application_no: str
    applicant_name: str
    loan_type: str
    amount: Decimal
    term_months: int
    purpose: str
    application_date: dt.date
    status: str
    completeness: int
    checklist: list[ChecklistItem]
    documents: list[ApplicationDocumentOut]
    supplement: list[Finding]
    review: list[Finding]
    history: list[HistoryOut]


class ApplicationSummaryOut(BaseModel):
    id: str
    application_no: str
    applicant_name: str
    loan_type: str
    amount: Decimal
    term_months: int
    application_date: dt.date
    status: str
    created_at: dt.datetime


class ApplicationListOut(BaseModel):
    items: list[ApplicationSummaryOut]
    total: int
    limit: int
    offset: int


class StatusOut(BaseModel):
    application_no: str
    status: str
    supplement: list[Any]


class DocumentOut(BaseModel):
    id: str
    application_id: str
    filename: str
    status: str
    error_code: str | None
    error_message: str | None
    doc_type: str | None
    extraction_version: int | None
    documents: list[DocumentResult]


class HealthOut(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str | None
    application_id: str | None
    ip: str | None
    detail: Any | None


class AuditListOut(BaseModel):
    items: list[AuditEventOut]
    total: int
    limit: int
    offset: int


class ErasedOut(BaseModel):
    application_id: str
    documents: int
    files_removed: int
