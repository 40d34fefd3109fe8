"""Reviewer pages: sign-in with a token, the review queue and the application view.

Every page declares the same ``Rule`` as the JSON it shows (STAFF: reviewers act, admins may
look); not being signed in sends the browser to ``/review/login`` (``common.install_handlers``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loandocs import workflow
from loandocs.api import auth, views
from loandocs.api.auth import PUBLIC, STAFF, Caller
from loandocs.api.deps import SessionDep
from loandocs.api.review_routes import build_queue
from loandocs.api.web.common import check_same_origin, csrf_for, local_path, render, secure
from loandocs.api.web.review_view import build_file, income
from loandocs.masking import mask_field
from loandocs.rules.assessment import load_checklist
from loandocs.rules.catalog import CATALOG
from loandocs.store import access
from loandocs.store import repository as repo
from loandocs.store import review as store
from loandocs.workflow import review as rules

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
ALL_STATUSES = tuple(workflow.TRANSITIONS)


@router.get("/review/login", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def login_page(next: str = "/review", wrong_role: int = 0) -> HTMLResponse:
    error = "当前登录身份不能访问审核工作台，请使用审核员令牌登录。" if wrong_role else ""
    return render("review_login.html", csrf="", next=local_path(next, "/review"), error=error, signed_in=None)


@router.post("/review/login", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def login(request: Request, session: SessionDep, token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/review") -> Response:
    check_same_origin(request)
    token = token.strip()
    target = local_path(next, "/review")
    if not token:
        return render("review_login.html", 422, csrf="", next=target, error="请粘贴令牌。", signed_in=None)
    ident = access.identify(session, token)
    if ident is None or ident.role not in access.STAFF_ROLES:
        return render("review_login.html", 401, csrf="", next=target, signed_in=None,
                      error="令牌无效、已撤销，或不是审核员/管理员令牌。")
    response = RedirectResponse(target, status_code=303)
    auth.set_session_cookie(response, token, secure=secure(request))
    return response


@router.post("/review/logout", dependencies=[Depends(STAFF)])
def logout() -> Response:
    response = RedirectResponse("/review/login", status_code=303)
    auth.clear_session_cookie(response)
    return response


def _date(text: str, errors: list[str], label: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label}不是有效日期（YYYY-MM-DD），已忽略。")
        return None


@router.get("/review", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep, caller: Annotated[Caller, Depends(STAFF)],
               status: str = "", loan_type: str = "", date_from: str = "", date_to: str = "", flag: str = "",
               sort: str = "oldest", page: int = 1) -> HTMLResponse:
    errors: list[str] = []
    if status == "all":
        statuses = ALL_STATUSES
    elif status in workflow.TRANSITIONS:
        statuses = (status,)
    else:
        status, statuses = "", store.QUEUE_STATUSES
    loan_types = load_checklist().loan_types
    q = store.QueueQuery(statuses=statuses, loan_type=loan_type if loan_type in loan_types else None,
                         date_from=_date(date_from, errors, "起始日期"), date_to=_date(date_to, errors, "截止日期"),
                         newest_first=sort == "newest")
    page = max(page, 1)
    flag = flag if flag in CATALOG else ""
    result = build_queue(session, caller, q, flag=flag or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-result.total // PAGE_SIZE))
    filters = {"status": status, "loan_type": q.loan_type or "", "date_from": date_from, "date_to": date_to,
               "flag": flag, "sort": "newest" if q.newest_first else "oldest"}

    def page_url(n: int) -> str | None:
        return "/review?" + urlencode({**{k: v for k, v in filters.items() if v}, "page": n}) if 1 <= n <= pages else None

    return render("review_queue.html", csrf=csrf_for(request), signed_in=caller, result=result, errors=errors,
                  filters=filters, statuses=ALL_STATUSES, loan_types=loan_types, flags=sorted(CATALOG),
                  waiting=sum(result.counts.get(st, 0) for st in store.QUEUE_STATUSES),
                  page=page, pages=pages, prev_url=page_url(page - 1), next_url=page_url(page + 1))


@router.get("/review/applications/{app_id}", response_class=HTMLResponse)
def application_page(app_id: str, request: Request, session: SessionDep,
                     caller: Annotated[Caller, Depends(STAFF)]) -> HTMLResponse:
    app = views.application_out(session, caller, app_id)  # audited there, masked for admins
    stored = repo.get_application(session, app_id)
    thresholds = workflow.policy().thresholds(app.loan_type)
    reveal = caller.sees_identifiers
    files = []
    for d in app.documents:
        detail = views.document_out(session, caller, d.id)
        corrections = repo.list_corrections(session, d.id)
        ext = repo.latest_extraction(session, d.id)
        machine = ext.result if ext else []
        if not reveal:
            corrections = [c.model_copy(update={"value": mask_field(c.field, c.value)}) for c in corrections]
            machine = [{**p, "fields": {k: {**v, "value": mask_field(k, v.get("value"))}
                                        for k, v in (p.get("fields") or {}).items()}} for p in machine]
        files.append(build_file(d, detail, corrections, machine, thresholds.low_confidence_threshold))
    # Only reviewers act; an admin sees the same page without the buttons.
    actions = rules.legal_actions(app.status) if caller.role == "reviewer" else []
    reasons = (rules.supplement_reasons(app.loan_type, app.supplement, app.review)
               if any(a.name == "request_supplement" for a in actions) else [])
    requirements = stored.supplement_requirements if isinstance(stored.supplement_requirements, list) else []
    return render("review_application.html", csrf=csrf_for(request), signed_in=caller, app=app, stored=stored,
                  files=files, actions=actions, reasons=reasons, requirements=requirements,
                  income=income(app, thresholds.income_mismatch_ratio), threshold=thresholds.low_confidence_threshold,
                  loan_type_zh=load_checklist().loan_type(app.loan_type).name_zh, can_edit=caller.role == "reviewer"
                  and app.status not in workflow.CLOSED)
