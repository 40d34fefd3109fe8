"""Request and response bodies of the reviewer API (``review_routes``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loandocs.kinds import DocType
from loandocs.rules.assessment import Finding


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QueueItemOut(BaseModel):
    id: str
    application_no: str
    applicant_name: str
    id_number: str | None = Field(description="masked: list views never show identifiers in full")
    loan_type: str
    amount: Decimal
    term_months: int
    application_date: dt.date
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    age_hours: float = Field(description="hours since the application was created")
    completeness: int | None = Field(description="None while nothing has been extracted")
    flags: list[str] = Field(description="codes of failed checks (supplement and review), sorted")


class QueueOut(BaseModel):
    items: list[QueueItemOut]
    total: int
    counts: dict[str, int] = Field(description="applications per status under the loan type and date filters")
    limit: int
    offset: int


class ActionOut(BaseModel):
    action: str
    to_status: str
    label_zh: str
    label_en: str


class WaivableOut(BaseModel):
    document_id: str
    part: int
    doc_type: str
    code: str


class ActionsOut(BaseModel):
    application_id: str
    status: str
    actions: list[ActionOut] = Field(description="only the moves the status allows a reviewer to make")
    supplement_reasons: list[Finding] = Field(description="reasons a supplement request may name")
    waivable: list[WaivableOut] = Field(default_factory=list, description="failing checks a reviewer may waive (POST /v1/documents/{id}/waivers)")



class ClaimIn(_In):
    note: str = Field(default="", max_length=2000)


class DecisionIn(_In):
    decision: Literal["approve", "reject"]
    opinion: str = Field(min_length=1, max_length=4000, description="the review opinion, kept with the application")


class ReasonIn(_In):
    code: str = Field(min_length=1, max_length=64)
    doc_type: str = Field(default="", max_length=32)


class SupplementIn(_In):
    reasons: list[ReasonIn] = Field(default_factory=list, max_length=50,
                                    description="chosen from GET .../actions supplement_reasons")
    note: str = Field(default="", max_length=2000, description="the reviewer's own words, shown to the applicant")

    @model_validator(mode="after")
    def _something(self) -> SupplementIn:
        if not self.reasons and not self.note:
            raise ValueError("choose at least one reason or write a note")
        return self


class DisbursementIn(_In):
    date: dt.date
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


class ReviewStateOut(BaseModel):
    id: str
    application_no: str
    status: str
    review_opinion: str | None
    supplement_requirements: list[Any]
    disbursement_date: dt.date | None
    disbursement_amount: Decimal | None


class CorrectionIn(_In):
    field: str = Field(min_length=1, max_length=64)
    value: str | int | float | bool | None = Field(description="null or empty clears the field")
    reason: str = Field(min_length=1, max_length=2000)
    part: int | None = Field(default=None, ge=0, description="which document of the file (0-based)")
    doc_type: DocType | None = Field(default=None, description="or which type of document in the file")


class CorrectionOut(BaseModel):
    id: int
    document_id: str
    doc_type: str | None = Field(description="null: applies to every document of the file")
    field: str
    value: Any
    reason: str
    corrected_by: str
    corrected_at: dt.datetime
    source: Literal["reviewer"] = "reviewer"


class MachineValueOut(BaseModel):
    part: int
    doc_type: str
    field: str
    value: Any
    confidence: float


class CorrectionsOut(BaseModel):
    document_id: str
    items: list[CorrectionOut] = Field(description="oldest first; the latest of a field is in effect")
    machine: list[MachineValueOut] = Field(description="what the latest extraction read for each corrected field")


class WaiverIn(_In):
    code: str = Field(min_length=1, max_length=64, description="a check code failing on the document")
    reason: str = Field(min_length=1, max_length=2000, description="why the machine's check is wrong")
    part: int | None = Field(default=None, ge=0, description="which document of the file (0-based)")
    doc_type: DocType | None = Field(default=None, description="or which type of document in the file")


class WaiverOut(BaseModel):
    id: int
    document_id: str
    doc_type: str | None = Field(description="null: applies to every document of the file")
    code: str
    reason: str
    waived_by: str
    waived_at: dt.datetime


class WaiverResultOut(BaseModel):
    waiver: WaiverOut
    status: str
    completeness: int | None
    supplement: list[Finding]
    review: list[Finding]


class CorrectionResultOut(BaseModel):
    correction: CorrectionOut
    status: str
    completeness: int | None
    supplement: list[Finding]
    review: list[Finding]
