"""The reviewer's application page as plain data for the template: every document with its
page images, the boxes to draw on them, its fields with confidence and correction history,
and a statement's transactions with the rows whose balance breaks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from loandocs import kinds
from loandocs.api import schemas as s
from loandocs.kinds.values import FIELD_LABELS
from loandocs.models import Check, DocumentResult, ExtractedField
from loandocs.store import repository as repo
from loandocs.workflow.review import DOC_TYPE_ZH, FIELDS_BY_TYPE

_ROW = re.compile(r"transactions\[(\d+)\]")


@dataclass
class Box:
    key: str
    x: float
    y: float
    w: float
    h: float
    kind: str  # "field" or "txn"
    flagged: bool = False


@dataclass
class PageView:
    src: str
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)


@dataclass
class HistoryItem:
    value: str
    by: str
    at: Any
    reason: str


@dataclass
class FieldView:
    key: str
    name: str
    label: str
    value: str
    edit_value: str
    confidence: float
    low: bool
    source: str
    has_box: bool
    machine_value: str | None  # what the machine read, when a reviewer changed it
    history: list[HistoryItem]


@dataclass
class TxnView:
    key: str
    n: int
    date: str
    description: str
    amount: float | None
    balance: float | None
    counterparty: str
    broken: bool
    has_box: bool


@dataclass
class AccountView:
    """One row of a document's ``accounts`` table (a credit report's loan or card), with its
    repayment grid as cells, overdue months (1-7) marked."""

    key: str
    n: int
    cells: list[str]  # institution, type, opened, limit, balance, status, class, overdue periods, overdue amount
    grid: list[tuple[str, bool]]
    flagged: bool
    has_box: bool


@dataclass
class QueryView:
    n: int
    date: str
    institution: str
    reason: str


ACCOUNT_COLUMNS = (("institution", "机构"), ("account_type", "账户类型"), ("opened", "开立日期"), ("limit_or_principal", "额度/本金"),
                   ("balance", "余额/已用"), ("status", "状态"), ("five_class", "五级分类"), ("overdue_periods", "逾期期数"),
                   ("overdue_amount", "逾期金额"))  # fmt: skip
_ACCOUNT = re.compile(r"accounts\[(\d+)\]")


def _accounts(doc_id: str, index: int, full: DocumentResult, failed: list[Check], pages: list[PageView]) -> list[AccountView] | None:
    rows = (full.tables or {}).get("accounts")
    if rows is None:
        return None
    flagged = {int(m.group(1)) for c in failed for name in c.fields if (m := _ACCOUNT.fullmatch(name))}
    out = []
    for i, a in enumerate(rows):
        key = f"{doc_id}-{index}-a{i}"
        box = ExtractedField(value=None, page=a.get("page") or 1, bbox=a.get("bbox"))
        grid = [(c, c in "1234567") for c in str(a.get("repayment_24m") or "")]
        out.append(AccountView(key=key, n=i + 1, cells=[show(k, a.get(k)) for k, _ in ACCOUNT_COLUMNS], grid=grid,
                               flagged=i in flagged, has_box=_box(full, key, box, pages, "txn", flagged=i in flagged)))  # fmt: skip
    return out


def _queries(full: DocumentResult) -> list[QueryView] | None:
    rows = (full.tables or {}).get("queries")
    if rows is None:
        return None
    return [QueryView(n=i + 1, date=str(q.get("date") or ""), institution=str(q.get("institution") or ""), reason=str(q.get("reason") or ""))
            for i, q in enumerate(rows)]  # fmt: skip


@dataclass
class PartView:
    index: int
    doc_type: str
    doc_type_zh: str
    pages: list[PageView]
    fields: list[FieldView]
    failed: list[Check]
    transactions: list[TxnView] | None
    waived: list[Check] = field(default_factory=list)  # failing checks a reviewer overruled
    accounts: list[AccountView] | None = None
    queries: list[QueryView] | None = None
    account_columns: tuple[tuple[str, str], ...] = ACCOUNT_COLUMNS


@dataclass
class FileView:
    id: str
    filename: str
    status: str
    error_code: str | None
    parts: list[PartView]


def show(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "有" if value else "无"
    if name == "valid_until" and value == "long_term":
        return "长期"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _edit(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _page_position(part: DocumentResult, page: int) -> int:
    """Index into the part's page images of the file page ``page`` (boxes say file pages)."""
    for k, q in enumerate(part.quality):
        if q.page == page:
            return k
    if page in part.pages:
        return part.pages.index(page)
    return 0


def _box(part: DocumentResult, key: str, f: ExtractedField | Any, pages: list[PageView], kind: str,
         flagged: bool = False) -> bool:
    bbox = getattr(f, "bbox", None)
    if not bbox or len(bbox) != 4 or not pages:
        return False
    k = min(_page_position(part, getattr(f, "page", 1)), len(pages) - 1)
    x0, y0, x1, y1 = bbox
    pages[k].boxes.append(Box(key=key, x=x0, y=y0, w=max(x1 - x0, 1), h=max(y1 - y0, 1), kind=kind, flagged=flagged))
    return True


def build_file(doc: s.ApplicationDocumentOut, detail: s.DocumentOut, corrections: list[repo.CorrectionRecord],
               machine: list[dict[str, Any]], threshold: float) -> FileView:
    """``doc`` (from the application: fields with corrections, checks re-run) and ``detail``
    (from the document: transactions, quality, page images) describe the same parts in the
    same order; ``machine`` is the latest extraction's raw result, for the history."""
    parts = []
    for index, (summary, full) in enumerate(zip(doc.parts, detail.documents)):
        pages = [PageView(src=f"/v1/documents/{doc.id}/pages/{index}/{n + 1}.jpg",
                          width=full.quality[n].width if n < len(full.quality) else 0,
                          height=full.quality[n].height if n < len(full.quality) else 0)
                 for n in range(len(full.page_images or []))]
        failed = [c for c in summary.checks if not c.ok]
        raw = (machine[index].get("fields") or {}) if index < len(machine) else {}
        order = list(FIELDS_BY_TYPE.get(summary.doc_type, ()))
        names = order + sorted(n for n in summary.fields if n not in order)
        fields = []
        for name in names:
            f = summary.fields.get(name)
            if f is None:
                continue
            key = f"{doc.id}-{index}-{name}"
            mine = [c for c in corrections if c.field == name and c.doc_type in (None, summary.doc_type)]
            low = f.source != "reviewer" and f.confidence < threshold
            fields.append(FieldView(
                key=key, name=name, label=FIELD_LABELS.get(name, name), value=show(name, f.value),
                edit_value=_edit(f.value), confidence=f.confidence, low=low, source=f.source,
                has_box=_box(full, key, f, pages, "field", flagged=low),
                machine_value=show(name, (raw.get(name) or {}).get("value")) if mine else None,
                history=[HistoryItem(value=show(name, c.value), by=c.corrected_by, at=c.corrected_at, reason=c.reason)
                         for c in mine],
            ))
        transactions = None
        if full.transactions is not None:
            broken = {int(m.group(1)) for c in failed if c.code == "balance_inconsistent"
                      for name in c.fields if (m := _ROW.fullmatch(name))}
            transactions = []
            for i, t in enumerate(full.transactions):
                key = f"{doc.id}-{index}-t{i}"
                transactions.append(TxnView(
                    key=key, n=i + 1, date=t.date or "", description=t.description or "", amount=t.amount,
                    balance=t.balance, counterparty=t.counterparty or "", broken=i in broken,
                    has_box=_box(full, key, t, pages, "txn", flagged=i in broken),
                ))
        parts.append(PartView(index=index, doc_type=summary.doc_type,
                              doc_type_zh=DOC_TYPE_ZH.get(summary.doc_type, summary.doc_type),
                              pages=pages, fields=fields, failed=failed, transactions=transactions,
                              waived=[c for c in summary.checks if c.waived_by],
                              accounts=_accounts(doc.id, index, full, failed, pages), queries=_queries(full)))
    return FileView(id=doc.id, filename=doc.filename, status=doc.status, error_code=doc.error_code, parts=parts)


@dataclass
class IncomeView:
    certificate: float | None
    statement: float | None
    ratio: float | None  # |certificate - statement| / certificate
    limit: float

    @property
    def mismatch(self) -> bool:
        return self.ratio is not None and self.ratio > self.limit


def income(app: s.ApplicationOut, limit: float) -> IncomeView | None:
    """The certificate's monthly income beside the statement's salary estimate."""
    def first(role: str) -> float | None:
        for d in app.documents:
            for p in d.parts:
                kind = kinds.get(p.doc_type)
                name = getattr(kind, role) if kind else None
                f = p.fields.get(name) if name else None
                if f is not None and isinstance(f.value, (int, float)) and not isinstance(f.value, bool):
                    return float(f.value)
        return None

    cert, est = first("stated_income_field"), first("paid_income_field")
    if cert is None and est is None:
        return None
    ratio = abs(cert - est) / cert if cert and est is not None else None
    return IncomeView(certificate=cert, statement=est, ratio=ratio, limit=limit)
