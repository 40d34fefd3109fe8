"""The reviewer's rules, kept apart from HTTP: which actions a status allows, what a reviewer
may ask the applicant to supplement (in words the applicant understands), and how a typed-in
correction becomes a field value the checks can use.

Supplement reason codes a reviewer can send besides the check codes of DESIGN:
``resubmit`` (upload this material again, clearly) and ``reviewer_note`` (the reviewer's own words).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from loandocs import kinds
from loandocs.errors import LoanDocsError
from loandocs.kinds.values import InvalidCorrection, coerce_field
from loandocs.models.status import TRANSITIONS, ApplicationStatus
from loandocs.rules.assessment import Finding
from loandocs.rules.checklist import load_checklist


class UnknownSupplementReason(LoanDocsError):
    code = "unknown_supplement_reason"
    http_status = 422


class DisbursementTooLarge(LoanDocsError):
    code = "disbursement_exceeds_amount"
    http_status = 422


class NotExtracted(LoanDocsError):
    code = "document_not_extracted"
    http_status = 409


# -- actions --------------------------------------------------------------------------------


class Action(NamedTuple):
    name: str
    from_status: str
    to_status: str
    label_zh: str
    label_en: str


ACTIONS = (
    Action("claim", "collected", "under_review", "领取审核", "Claim for review"),
    Action("approve", "under_review", "approved", "审核通过", "Approve"),
    Action("reject", "under_review", "rejected", "审核不通过", "Reject"),
    Action("request_supplement", "under_review", "needs_supplement", "要求补充材料", "Request supplement"),
    Action("disburse", "approved", "disbursed", "登记放款", "Record disbursement"),
)
# Moves that are not the reviewer's (the worker's assessment, the applicant's upload) are in
# TRANSITIONS but not here, so they are never offered.


def legal_actions(status: str) -> list[Action]:
    allowed = TRANSITIONS.get(ApplicationStatus(status), frozenset()) if status in TRANSITIONS else frozenset()
    return [a for a in ACTIONS if a.from_status == status and a.to_status in allowed]


# -- supplement reasons ---------------------------------------------------------------------

# Review findings are worded for the reviewer ("a reviewer must check"); these say what the
# applicant can do about them.
FOR_APPLICANT = {
    "balance_inconsistent": (
        "银行流水的余额与交易金额对不上，请到银行打印加盖银行业务章的流水后重新上传。",
        "The running balance of the bank statement does not add up. Please upload a statement printed and stamped by the bank.",
    ),
    "income_mismatch": (
        "收入证明上的月收入与银行流水中的工资相差较大，请补充工资单或个人所得税纳税记录。",
        "The certified monthly income differs a lot from the salary in the bank statement. Please add payslips or your income tax record.",
    ),
    "duplicate_document": (
        "同一份材料上传了多次，请检查是否漏传了其他材料。",
        "The same document was uploaded more than once. Please check whether another material is missing.",
    ),
    "low_confidence": (
        "{material}上有信息看不清，请在光线充足处平放拍摄完整、清晰的照片后重新上传。",
        "Some details on the {material_en} cannot be read. Please retake it flat, in good light, whole and sharp.",
    ),
}
RESUBMIT = ("请重新上传清晰、完整的{material}。", "Please upload a clear and complete {material_en} again.")


def materials(loan_type: str) -> dict[str, tuple[str, str]]:
    """doc_type -> (Chinese name, English name) of the loan type's materials."""
    return load_checklist().materials_of(loan_type)


def supplement_reasons(loan_type: str, supplement: list[Finding], review: list[Finding]) -> list[Finding]:
    """What a reviewer may ask for: the machine's supplement findings as they are, its review
    findings reworded for the applicant, and a plain re-upload of each material."""
    names = materials(loan_type)
    out: dict[tuple[str, str], Finding] = {}

    def add(code: str, doc_type: str, zh: str, en: str) -> None:
        out.setdefault((code, doc_type), Finding(code=code, doc_type=doc_type, message_zh=zh, message_en=en))

    for f in supplement:
        add(f.code, f.doc_type, f.message_zh, f.message_en)
    for f in review:
        if f.code in FOR_APPLICANT:
            zh, en = FOR_APPLICANT[f.code]
            name_zh, name_en = names.get(f.doc_type, ("材料", "document"))
            add(f.code, f.doc_type, zh.format(material=name_zh), en.format(material_en=name_en))
    for doc_type, (name_zh, name_en) in names.items():
        add("resubmit", doc_type, RESUBMIT[0].format(material=name_zh), RESUBMIT[1].format(material_en=name_en))
    return list(out.values())


def note_finding(note: str) -> Finding:
    return Finding(code="reviewer_note", doc_type="", message_zh=note, message_en=note)


# -- corrections ----------------------------------------------------------------------------

FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {k.name: k.field_names for k in kinds.KINDS}
DOC_TYPE_ZH = {k.name: k.name_zh for k in kinds.KINDS} | {kinds.UNKNOWN: kinds.UNKNOWN_NAME_ZH}
coerce = coerce_field


def pick_part(parts: list[dict[str, Any]], field: str, *, part: int | None, doc_type: str | None) -> int:
    """Which document of the file a correction is for: the one named, or the only one that can
    hold the field."""
    if part is not None:
        if not 0 <= part < len(parts):
            raise InvalidCorrection(f"part {part} does not exist; the file has {len(parts)} document(s)")
        index = part
    elif doc_type is not None:
        found = [i for i, p in enumerate(parts) if p.get("doc_type") == doc_type]
        if not found:
            raise InvalidCorrection(f"the file holds no {doc_type}")
        index = found[0]
    elif len(parts) == 1:
        index = 0
    else:
        found = [i for i, p in enumerate(parts) if field in FIELDS_BY_TYPE.get(p.get("doc_type", ""), ())]
        if len(found) != 1:
            raise InvalidCorrection("the file holds several documents; say which with part or doc_type")
        index = found[0]
    kind = parts[index].get("doc_type", "unknown")
    if doc_type is not None and kind != doc_type:
        raise InvalidCorrection(f"part {index} is a {kind}, not a {doc_type}")
    if field not in FIELDS_BY_TYPE.get(kind, ()):
        raise InvalidCorrection(f"{kind} has no field {field!r}", field=field)
    return index
