"""The application's workflow, between the API/worker and the store: typed statuses and the
transition table (``loandocs.models.status``), the reviewer's actions and rules (``review``),
and the use cases (``application``): accept an upload, re-assess, correct, and the assessment
every view is built from."""

from loandocs.models.status import (
    CLOSED,
    DOCUMENT_STATUS_ZH,
    FINISHED,
    PENDING,
    STATUS_ZH,
    TRANSITIONS,
    ApplicationStatus,
    DocumentStatus,
)
from loandocs.workflow.application import (
    ACTOR,
    REPROCESS_ACTOR,
    Accepted,
    ApplicationClosed,
    Upload,
    accept_upload,
    assess_application,
    assessment_of,
    policy,
    reassess,
    reassess_after_correction,
)

__all__ = [
    "ACTOR",
    "CLOSED",
    "DOCUMENT_STATUS_ZH",
    "FINISHED",
    "PENDING",
    "REPROCESS_ACTOR",
    "STATUS_ZH",
    "TRANSITIONS",
    "Accepted",
    "ApplicationClosed",
    "ApplicationStatus",
    "DocumentStatus",
    "Upload",
    "accept_upload",
    "assess_application",
    "assessment_of",
    "policy",
    "reassess",
    "reassess_after_correction",
]
