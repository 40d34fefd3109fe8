"""Applicant pages: create an application (with consent), upload materials from a phone,
watch the checklist fill in, see what to supplement; status lookup by application number.

The applicant's key is the token returned when the application is created: it is put in the
session cookie and shown once, so the applicant can come back from another device.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from loandocs import workflow
from loandocs.api import auth, routes
from loandocs.api import schemas as s
from loandocs.api.auth import OWN_APPLICATION, PUBLIC, Caller, record
from loandocs.api.deps import SessionDep
from loandocs.api.web.common import check_same_origin, csrf_for, render, secure
from loandocs.errors import LoanDocsError
from loandocs.rules.assessment import load_checklist
from loandocs.store import access
from loandocs.store import repository as repo
from loandocs.store import review as store
from loandocs.workflow import PENDING, assessment_of

router = APIRouter(include_in_schema=False)
json_router = APIRouter(prefix="/v1", tags=["applicant"])

CONSENT_VERSION = "2026-11-web"
CONSENT_TEXT = (
    "本人同意贵行为办理本次贷款申请，收集、保存和使用本人上传的身份证、收入证明、银行流水等材料中的个人信息"
    "（包括身份证号码、银行账号、收入和交易记录等敏感个人信息），用于身份核验、资料审核和贷款审批。"
    "上述信息加密保存，仅限经授权的审核人员查阅，查阅记录留存备查；申请结束后按法律法规和监管要求的期限保存，到期删除。"
)
STATE_ZH = {"ok": "已通过", "redo": "需重新上传", "missing": "未上传", "reading": "识别中"}
FIELD_ZH = {"applicant_name": "姓名", "loan_type": "贷款类型", "amount": "申请金额", "term_months": "期限（月）",
            "purpose": "用途", "application_date": "申请日期"}


class ProgressItemOut(BaseModel):
    material: str
    name_zh: str
    doc_type: str
    required: bool
    state: str  # ok | redo | missing | reading
    state_zh: str


class ProgressDocumentOut(BaseModel):
    id: str
    filename: str
    status: str
    status_zh: str
    doc_type: str | None
    error_code: str | None


class ProgressOut(BaseModel):
    application_no: str
    status: str
    status_zh: str
    completeness: int
    pending: int
    checklist: list[ProgressItemOut]
    documents: list[ProgressDocumentOut]
    supplement: list[dict] = []


def progress(session, app_id: str) -> ProgressOut:
    app = repo.get_application(session, app_id)
    files = store.files_of(session, [app_id])[app_id]
    a = assessment_of(app, files)
    pending = sum(f.document.status in PENDING for f in files)
    if a is not None:
        items = [(it.material, it.name_zh, it.doc_type, it.required, it.present, it.ok) for it in a.checklist]
    else:
        cl = load_checklist()
        items = [(r.material, cl.materials[r.material].name_zh, cl.materials[r.material].doc_type, r.required, False, False)
                 for r in cl.loan_type(app.loan_type).materials]
    reqs = app.supplement_requirements if isinstance(app.supplement_requirements, list) else []
    reqs = reqs if app.status == "needs_supplement" else []
    # A material the reviewer asked for again is not "passed" in the applicant's eyes.
    asked = {r.get("doc_type") for r in reqs if isinstance(r, dict)}
    checklist = []
    for material, name, doc_type, required, present, ok in items:
        state = "ok" if ok and doc_type not in asked else "redo" if present else "reading" if pending else "missing"
        checklist.append(ProgressItemOut(material=material, name_zh=name, doc_type=doc_type, required=required,
                                         state=state, state_zh=STATE_ZH[state]))
    documents = [ProgressDocumentOut(id=f.document.id, filename=f.document.filename, status=f.document.status,
                                     status_zh=workflow.DOCUMENT_STATUS_ZH.get(f.document.status, f.document.status),
                                     doc_type=f.document.doc_type, error_code=f.document.error_code) for f in files]
    return ProgressOut(application_no=app.application_no, status=app.status,
                       status_zh=workflow.STATUS_ZH.get(app.status, app.status),
                       completeness=a.completeness if a else 0, pending=pending, checklist=checklist,
                       documents=documents, supplement=reqs)


# Polled every few seconds by the applicant's page. It holds no extracted values (states,
# file names the applicant chose, the supplement texts), so it is not audited: an open page
# would otherwise write an audit event every poll.
@json_router.get("/applications/{app_id}/progress", response_model=ProgressOut,
                 responses={401: {"description": "auth_required"}, 404: {"description": "not_found"}})
def application_progress(app_id: str, session: SessionDep,
                         caller: Annotated[Caller, Depends(OWN_APPLICATION)]) -> ProgressOut:
    return progress(session, app_id)


def _form_page(status_code: int = 200, errors: list[str] | None = None, values: dict | None = None) -> HTMLResponse:
    return render("apply_home.html", status_code, csrf="", errors=errors or [], values=values or {},
                  loan_types=load_checklist().loan_types, consent_text=CONSENT_TEXT, consent_version=CONSENT_VERSION)


@router.get("/apply", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def apply_home() -> HTMLResponse:
    return _form_page()


@router.post("/apply", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def apply_create(
    request: Request, session: SessionDep,
    applicant_name: Annotated[str, Form()] = "", loan_type: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "", term_months: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "", application_date: Annotated[str, Form()] = "",
    consent: Annotated[str, Form()] = "",
) -> Response:
    check_same_origin(request)
    values = {"applicant_name": applicant_name, "loan_type": loan_type, "amount": amount,
              "term_months": term_months, "purpose": purpose, "application_date": application_date}
    if consent != "agreed":
        return _form_page(422, ["请阅读《个人信息授权书》并勾选同意后再提交。"], values)
    try:
        # The same body and checks as POST /v1/applications; application_date is optional there
        # too (a bank's app may set the day the applicant applied).
        body = s.ApplicationIn(applicant_name=applicant_name, loan_type=loan_type, amount=amount or "0",
                               term_months=term_months or "0", purpose=purpose,
                               application_date=application_date or None,
                               consent=s.ConsentIn(agreed=True, version=CONSENT_VERSION, channel="web"))
    except ValidationError as exc:
        wrong = sorted({FIELD_ZH.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors() if e["loc"]})
        return _form_page(422, [f"请检查：{'、'.join(wrong)}。"], values)
    ip = request.client.host if request.client else None
    try:
        app, token = workflow.create_application(session, routes.new_application(body), ip=ip)
    except LoanDocsError as exc:
        return _form_page(exc.http_status if exc.http_status < 500 else 422, [exc.message], values)
    record(session, Caller(role="applicant", name=f"applicant:{app.id}", ip=ip), "create", "application",
           app.id, app.id, consent_version=body.consent.version)
    created = s.ApplicationCreatedOut(id=app.id, application_no=app.application_no, status=app.status, applicant_token=token)
    response = render("apply_created.html", csrf="", created=created)
    auth.set_session_cookie(response, token, secure=secure(request))
    return response


@router.get("/apply/login", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def apply_login_page() -> HTMLResponse:
    return render("apply_login.html", csrf="", error="")


@router.post("/apply/login", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def apply_login(request: Request, session: SessionDep, token: Annotated[str, Form()] = "") -> Response:
    check_same_origin(request)
    token = token.strip()
    if not token:
        return render("apply_login.html", 422, csrf="", error="请输入访问码。")
    ident = access.identify(session, token)
    if ident is None or ident.role != "applicant" or ident.application_id is None:
        return render("apply_login.html", 401, csrf="", error="访问码不正确，请核对后重新输入。")
    response = RedirectResponse(f"/apply/{ident.application_id}", status_code=303)
    auth.set_session_cookie(response, token, secure=secure(request))
    return response


@router.get("/apply/status", response_class=HTMLResponse, dependencies=[Depends(PUBLIC)])
def apply_status(session: SessionDep, application_no: str = "") -> HTMLResponse:
    """The public lookup: the status and what to supplement, nothing personal (as /v1/status)."""
    application_no = application_no.strip().upper()
    found, missing = None, False
    if application_no:
        try:
            app, supplement = workflow.status_of(session, application_no)
            found = s.StatusOut(application_no=app.application_no, status=app.status, supplement=supplement)
        except repo.NotFound:
            missing = True
    return render("apply_status.html", 404 if missing else 200, csrf="", application_no=application_no,
                  found=found, missing=missing)


@router.get("/apply/{app_id}", response_class=HTMLResponse)
def apply_application(app_id: str, request: Request, session: SessionDep,
                      caller: Annotated[Caller, Depends(OWN_APPLICATION)]) -> HTMLResponse:
    app = repo.get_application(session, app_id)
    record(session, caller, "read", "application", app_id, app_id, page="apply")
    return render("apply_application.html", csrf=csrf_for(request), app=app, progress=progress(session, app_id),
                  loan_type_zh=load_checklist().loan_type(app.loan_type).name_zh,
                  closed=app.status in workflow.CLOSED)


@router.post("/apply/{app_id}/logout", dependencies=[Depends(OWN_APPLICATION)])
def apply_logout() -> Response:
    response = RedirectResponse("/apply", status_code=303)
    auth.clear_session_cookie(response)
    return response
