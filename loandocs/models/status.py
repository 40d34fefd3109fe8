"""The statuses of an application and of a document (DESIGN "Statuses"), and the application's
legal moves. Typed: every status is a ``StrEnum`` member, equal to its string in JSON and in
the database. ``loandocs.workflow`` owns what moves them; the repository refuses any move the
table does not allow."""

from __future__ import annotations

from enum import StrEnum


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    NEEDS_SUPPLEMENT = "needs_supplement"
    COLLECTED = "collected"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    DISBURSED = "disbursed"


class DocumentStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSING = "processing"
    EXTRACTED = "extracted"
    FAILED = "failed"


A, D = ApplicationStatus, DocumentStatus

# needs_supplement -> accepted is the "new upload" move.
TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    A.SUBMITTED: frozenset({A.ACCEPTED}),
    A.ACCEPTED: frozenset({A.NEEDS_SUPPLEMENT, A.COLLECTED}),
    A.NEEDS_SUPPLEMENT: frozenset({A.ACCEPTED}),
    A.COLLECTED: frozenset({A.UNDER_REVIEW}),
    A.UNDER_REVIEW: frozenset({A.APPROVED, A.REJECTED, A.NEEDS_SUPPLEMENT}),
    A.APPROVED: frozenset({A.DISBURSED}),
    A.REJECTED: frozenset(),
    A.DISBURSED: frozenset(),
}
# Decided: no more uploads or corrections.
CLOSED: frozenset[ApplicationStatus] = frozenset({A.APPROVED, A.REJECTED, A.DISBURSED})

DOCUMENT_STATUSES: tuple[DocumentStatus, ...] = tuple(DocumentStatus)
# A job ran to its end; the others have a job still coming. The application is judged only when
# none is pending, so it is not sent to needs_supplement for a material still in the queue.
FINISHED: tuple[DocumentStatus, ...] = (D.EXTRACTED, D.FAILED)
PENDING: tuple[DocumentStatus, ...] = (D.RECEIVED, D.QUEUED, D.PROCESSING)

STATUS_ZH: dict[ApplicationStatus, str] = {
    A.SUBMITTED: "已提交", A.ACCEPTED: "已受理", A.NEEDS_SUPPLEMENT: "待补充", A.COLLECTED: "采集完成",
    A.UNDER_REVIEW: "资料审核中", A.APPROVED: "审核通过", A.REJECTED: "审核不通过", A.DISBURSED: "已放款",
}  # fmt: skip
DOCUMENT_STATUS_ZH: dict[DocumentStatus, str] = {
    D.RECEIVED: "已接收", D.QUEUED: "排队中", D.PROCESSING: "识别中", D.EXTRACTED: "已识别", D.FAILED: "识别失败",
}  # fmt: skip
