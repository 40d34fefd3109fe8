"""What the review and applicant pages share: templates, the security headers every page
carries, and sign-in redirects.

Pages are rendered on the server from the same functions the ``/v1`` routes use; a little
JavaScript (``static/``) does the clicking, uploading and polling. Nothing is loaded from
another origin, and the Content-Security-Policy header makes the browser refuse it if a
template ever tried.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from loandocs import __version__
from loandocs.api import auth
from loandocs.api.errors import error_response
from loandocs.kinds.values import FIELD_LABELS
from loandocs.rules.catalog import NAMES_ZH
from loandocs.store.repository import CST
from loandocs.workflow import DOCUMENT_STATUS_ZH, STATUS_ZH
from loandocs.workflow.review import DOC_TYPE_ZH

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
PAGE_PREFIXES = ("/review", "/apply")
# 'self' only: scripts, styles, images, fonts and XHR all come from this server. No inline
# script or style attribute is needed by the templates, so none is allowed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Pages hold personal data: never keep them in a shared cache or the back-forward cache.
    "Cache-Control": "no-store",
}


def _money(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except ArithmeticError:
        return str(value)


def _cst(value: dt.datetime | None) -> Markup | str:
    """A time in China time, saying so (the API answers in UTC): ``2026-11-29 18:15 UTC+8``."""
    if not value:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they are stored in UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    local = value.astimezone(CST)
    return Markup('<time datetime="{}" title="北京时间 (UTC+8)">{} UTC+8</time>').format(
        local.isoformat(timespec="seconds"), local.strftime("%Y-%m-%d %H:%M"))


def _check_name(code: str) -> Markup:
    """A check code shown by its Chinese name, the code itself on hover (and for scripts)."""
    code = str(code)
    return Markup('<span class="flag" title="{0}" data-code="{0}">{1}</span>').format(code, NAMES_ZH.get(code, code))


env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                         undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
env.filters.update(money=_money, cst=_cst, check_name=_check_name)
env.globals.update(STATUS_ZH=STATUS_ZH, DOCUMENT_STATUS_ZH=DOCUMENT_STATUS_ZH, DOC_TYPE_ZH=DOC_TYPE_ZH,
                   FIELD_LABELS=FIELD_LABELS, NAMES_ZH=NAMES_ZH, version=__version__)


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def csrf_for(request: Request) -> str:
    """The CSRF token the page's forms and scripts send back; empty when the caller came
    with a bearer header (no cookie, so no CSRF risk and nothing to derive it from)."""
    token = request.cookies.get(auth.SESSION_COOKIE)
    return auth.csrf_token_for(token) if token else ""


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def check_same_origin(request: Request) -> None:
    """Sign-in and sign-up forms carry no session yet, so the CSRF token cannot protect them;
    refusing cross-site posts stops another site from signing a visitor in as someone else
    (who would then see what the visitor uploads)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise auth.CsrfFailed("cross-site form posts are refused")
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", request.url.netloc):
        raise auth.CsrfFailed("cross-site form posts are refused")
    if origin == "null":
        raise auth.CsrfFailed("cross-site form posts are refused")


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _login_for(request: Request) -> str:
    path = request.url.path
    here = path + (f"?{request.url.query}" if request.url.query else "")
    base = "/review/login" if path.startswith("/review") else "/apply/login"
    return f"{base}?next={quote(here, safe='/')}"


def _is_page(request: Request) -> bool:
    return request.url.path.startswith(PAGE_PREFIXES)


async def _auth_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, auth.AuthRequired)
    if _is_page(request):
        return RedirectResponse(_login_for(request), status_code=303)
    return error_response(exc.http_status, exc.code, exc.message)


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, auth.Forbidden)
    # A browser signed in with the wrong kind of session (an applicant opening /review) is
    # sent to sign in; a program with a bearer header gets the plain 403.
    if _is_page(request) and "authorization" not in request.headers:
        return RedirectResponse(_login_for(request) + "&wrong_role=1", status_code=303)
    return error_response(exc.http_status, exc.code, exc.message)


def install_handlers(app: Any) -> None:
    """Pages answer "not signed in" with a redirect to their sign-in page. Registered for the
    two exception classes only, so every other error still goes through api/errors.py."""
    app.add_exception_handler(auth.AuthRequired, _auth_required)
    app.add_exception_handler(auth.Forbidden, _forbidden)
