"""Who is calling, and whether they may.

Every route declares a ``Rule`` as a dependency, e.g. ``caller: Annotated[Caller, Depends(STAFF)]``
or ``dependencies=[Depends(PUBLIC)]``; ``tests/test_authorization.py`` fails for a route without
one. Callers present a bearer token (``Authorization: Bearer ...``): a staff token made by
``loandocs token create`` or the applicant token returned when the application was created.
Web pages carry the same token in an HttpOnly session cookie; a request authenticated by that
cookie must also send the CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``)
for anything but GET/HEAD/OPTIONS, so another site cannot make the browser act for its user.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from loandocs.api.deps import SessionDep
from loandocs.api.errors import ApiError
from loandocs.api.limits import FORM_LIMITS
from loandocs.store import access
from loandocs.store import repository as repo

SESSION_COOKIE = "loandocs_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class AuthRequired(ApiError):
    code = "auth_required"
    http_status = 401


class InvalidToken(ApiError):
    code = "invalid_token"
    http_status = 401


class Forbidden(ApiError):
    code = "forbidden"
    http_status = 403


class CsrfFailed(ApiError):
    code = "csrf_failed"
    http_status = 403


@dataclass(frozen=True)
class Caller:
    role: str  # "anonymous", "applicant", "reviewer" or "admin"
    name: str
    ip: str | None = None
    token_id: str | None = None
    application_id: str | None = None  # applicants: the one application they may reach
    via_cookie: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in access.STAFF_ROLES

    @property
    def sees_identifiers(self) -> bool:
        """Reviewers check ID and account numbers against the documents; nobody else needs them
        in full (admins run the service, applicants already know their own)."""
        return self.role == "reviewer"


def csrf_token_for(session_token: str) -> str:
    """The CSRF token that goes with a session token. Derived from the token, which the page's
    script can never read (HttpOnly), so a forged cross-site request cannot know it."""
    return hmac.new(session_token.encode(), b"loandocs-csrf", hashlib.sha256).hexdigest()


def set_session_cookie(response: Response, token: str, *, secure: bool = False) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


async def _check_csrf(request: Request, token: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        # Cached by Starlette, so the route reads this same parse; with the app's limits, since
        # this parse may be the only one (routes without form parameters, e.g. logout).
        form = await request.form(**FORM_LIMITS)
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, csrf_token_for(token)):
        raise CsrfFailed("missing or wrong CSRF token")


async def get_caller(request: Request, session: SessionDep) -> Caller:
    ip = request.client.host if request.client else None
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("use 'Authorization: Bearer <token>'")
        via_cookie = False
    else:
        token = request.cookies.get(SESSION_COOKIE, "")
        via_cookie = True
        if not token:
            return Caller(role="anonymous", name="anonymous", ip=ip)
    # In the thread pool, not on the event loop: this is the request's first query, and on
    # SQLite it waits for the write lock (BEGIN IMMEDIATE). Waiting on the loop would stop the
    # request holding the lock from ever finishing (its commit runs via the loop): a deadlock
    # until the busy timeout, seen as "database is locked" when a page polls during an upload.
    ident = await run_in_threadpool(access.identify, session, token)
    if ident is None:
        if via_cookie:  # a stale cookie: treated as signed out, so pages can send to the login
            return Caller(role="anonymous", name="anonymous", ip=ip)
        raise InvalidToken("unknown or revoked token")
    if via_cookie and request.method not in SAFE_METHODS:
        await _check_csrf(request, token)
    return Caller(role=ident.role, name=ident.name, ip=ip, token_id=ident.token_id,
                  application_id=ident.application_id, via_cookie=via_cookie)


CallerDep = Annotated[Caller, Depends(get_caller)]


class Rule:
    """Who may call a route. ``roles`` may call it; an applicant only for its own application,
    reached through the path parameter ``owner`` (``app_id`` or ``doc_id``). Someone else's
    application answers 404, as if it did not exist."""

    def __init__(self, *roles: str, public: bool = False, owner: str | None = None):
        unknown = set(roles) - set(access.ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}")
        if "applicant" in roles and owner not in ("app_id", "doc_id"):
            raise ValueError("an applicant rule needs owner='app_id' or 'doc_id'")
        self.roles = frozenset(roles)
        self.public = public
        self.owner = owner

    def __repr__(self) -> str:
        return "Rule(public)" if self.public else f"Rule({', '.join(sorted(self.roles))}, owner={self.owner})"

    def __call__(self, request: Request, caller: CallerDep, session: SessionDep) -> Caller:
        if caller.role == "anonymous":
            raise AuthRequired("sign in or send 'Authorization: Bearer <token>'")
        if caller.role not in self.roles:
            raise Forbidden(f"role {caller.role} may not do this")
        if caller.role == "applicant":
            param = request.path_params.get(self.owner or "", "")
            app_id = param if self.owner == "app_id" else _application_of_document(session, param)
            if app_id != caller.application_id:
                raise repo.NotFound("not found")
        return caller


def _application_of_document(session: SessionDep, doc_id: str) -> str | None:
    try:
        return repo.get_document(session, doc_id).application_id
    except repo.NotFound:
        return None


class Public(Rule):
    """Anyone may call; no token is looked at (a probe or an applicant without one)."""

    def __init__(self) -> None:
        super().__init__(public=True)

    def __call__(self, request: Request) -> Caller:  # type: ignore[override]
        return Caller(role="anonymous", name="anonymous", ip=request.client.host if request.client else None)


PUBLIC = Public()
STAFF = Rule("reviewer", "admin")
REVIEWER = Rule("reviewer")
ADMIN = Rule("admin")
OWN_APPLICATION = Rule("applicant", "reviewer", "admin", owner="app_id")
OWN_DOCUMENT = Rule("applicant", "reviewer", "admin", owner="doc_id")


def record(session: SessionDep, caller: Caller, action: str, object_type: str, object_id: str | None = None,
           application_id: str | None = None, **detail: object) -> None:
    """Audit one read or change of personal data by ``caller``."""
    access.audit(session, actor=caller.name, role=caller.role, action=action, object_type=object_type,
                 object_id=object_id, application_id=application_id, ip=caller.ip, detail=detail or None)
