"""Who may call what: one row per route, every route tested with every kind of caller.

``RULES`` must list every route of the app. A route added without a row fails
``test_every_route_has_a_rule``; a route without a ``Rule`` dependency fails it too. Each row is
then exercised with no token, a wrong token, a revoked token, the applicant of the application
the path names, the applicant of another application, a reviewer and an admin. A caller who may
not call the route gets 401/403 (404 for another applicant's application); a caller who may must
get past authorisation (any other status, usually 2xx, 404 for a missing page or 422 for the
empty body these requests send).
"""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from loandocs.api import auth, create_app
from loandocs.config import Settings
from loandocs.models import DocumentResult, ExtractedField
from loandocs.services import Services
from loandocs.store import access
from loandocs.store import repository as repo

from .helpers import staff_token

REDIS_URL = "redis://127.0.0.1:6379/11"

# (method, path) -> rule. Pages (HTML) send callers without a session to the sign-in page
# instead of answering 401: those rows say so with a "page:" prefix.
RULES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("POST", "/v1/applications"): "public",
    ("GET", "/v1/status/{application_no}"): "public",
    ("GET", "/v1/applications"): "staff",
    ("GET", "/v1/applications/{app_id}"): "own_application",
    ("POST", "/v1/applications/{app_id}/documents"): "own_application",
    ("GET", "/v1/documents/{doc_id}"): "own_document",
    ("GET", "/v1/documents/{doc_id}/pages/{index}/{page}.jpg"): "own_document",
    ("GET", "/v1/audit"): "admin",
    ("GET", "/metrics"): "admin",
    ("DELETE", "/v1/applications/{app_id}"): "admin",
    # Webhook subscriptions and deliveries (webhook_routes.py).
    ("GET", "/v1/webhooks/subscriptions"): "admin",
    ("POST", "/v1/webhooks/subscriptions"): "admin",
    ("DELETE", "/v1/webhooks/subscriptions/{sub_id}"): "admin",
    ("GET", "/v1/webhooks/deliveries"): "admin",
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/redeliver"): "admin",
    # Reviewer API (review_routes.py) and the applicant page's progress poll.
    ("GET", "/v1/review/queue"): "staff",
    ("GET", "/v1/applications/{app_id}/actions"): "staff",
    ("POST", "/v1/applications/{app_id}/claim"): "reviewer",
    ("POST", "/v1/applications/{app_id}/decision"): "reviewer",
    ("POST", "/v1/applications/{app_id}/supplement-request"): "reviewer",
    ("POST", "/v1/applications/{app_id}/disbursement"): "reviewer",
    ("GET", "/v1/documents/{doc_id}/corrections"): "staff",
    ("POST", "/v1/documents/{doc_id}/corrections"): "reviewer",
    ("GET", "/v1/documents/{doc_id}/waivers"): "staff",
    ("POST", "/v1/documents/{doc_id}/waivers"): "reviewer",
    ("GET", "/v1/applications/{app_id}/progress"): "own_application",
    # Web pages (api/web/).
    ("GET", "/review/login"): "public",
    ("POST", "/review/login"): "public",
    ("POST", "/review/logout"): "page:staff",
    ("GET", "/review"): "page:staff",
    ("GET", "/review/applications/{app_id}"): "page:staff",
    ("GET", "/apply"): "public",
    ("POST", "/apply"): "public",
    ("GET", "/apply/login"): "public",
    ("POST", "/apply/login"): "public",
    ("GET", "/apply/status"): "public",
    ("GET", "/apply/{app_id}"): "page:own_application",
    ("POST", "/apply/{app_id}/logout"): "page:own_application",
}

RULE_OBJECTS = {
    "public": auth.PUBLIC, "staff": auth.STAFF, "reviewer": auth.REVIEWER, "admin": auth.ADMIN,
    "own_application": auth.OWN_APPLICATION, "own_document": auth.OWN_DOCUMENT,
}
CALLERS = ("none", "bad", "revoked", "applicant", "other_applicant", "reviewer", "admin")
DENIED = {401, 403}


def _expected(rule: str, caller: str) -> str:
    """'allow', or the status a denied caller gets."""
    page = rule.startswith("page:")
    rule = rule.removeprefix("page:")
    if rule == "public":
        return "allow"
    if caller == "none":
        return "redirect" if page else "401"
    if caller in ("bad", "revoked"):  # a bearer header that does not work: 401, on pages too
        return "401"
    if rule in ("own_application", "own_document"):
        return "404" if caller == "other_applicant" else "allow"
    allowed = {"staff": {"reviewer", "admin"}, "reviewer": {"reviewer"}, "admin": {"admin"}}[rule]
    return "allow" if caller in allowed else "403"


def _routes(app) -> dict[tuple[str, str], APIRoute]:
    out = {}
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute):
            for method in route.methods - {"HEAD"}:
                out[(method, ctx.path)] = route
    return out


def _rules_of(route: APIRoute) -> list[auth.Rule]:
    found, stack = [], list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, auth.Rule):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    data = tmp_path_factory.mktemp("authz")
    services = Services(Settings(data_dir=data, redis_url=REDIS_URL))
    services.redis.flushdb()
    tokens = {"reviewer": staff_token(services, "reviewer"), "admin": staff_token(services, "admin"),
              "bad": "not-a-token"}
    revoked = staff_token(services, "admin", name="leaver")
    with services.sessions() as session:
        access.revoke_token(session, "leaver")
        session.commit()
    tokens["revoked"] = revoked
    other = _new_application(services)
    tokens["other_applicant"] = other["token"]
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        yield services, client, tokens
    services.redis.flushdb()
    services.engine.dispose()


def _new_application(services: Services) -> dict[str, str]:
    token, token_hash = repo.new_applicant_token()
    image = b"\xff\xd8\xff\xe0 not really a jpeg " + token.encode()
    key = services.files.put(image)
    with services.sessions() as session:
        app = repo.create_application(session, applicant_name="授权测试", loan_type="personal_consumer", amount=1000,
                                      term_months=12, applicant_token_hash=token_hash)
        repo.record_consent(session, app.id, text_version="t1", channel="api")
        doc = repo.add_document(session, app.id, filename="a.jpg", content_type="image/jpeg", size=len(image),
                                sha256=hashlib.sha256(image).hexdigest(), storage_key=key)
        result = DocumentResult(file="a.jpg", doc_type="id_card_front", pages=[1], page_images=[key],
                                fields={"id_number": ExtractedField(value="110101199003070318", confidence=0.99)})
        repo.add_extraction(session, doc.id, [result], extractor_version="test")
        repo.set_document_status(session, doc.id, "queued")
        repo.set_document_status(session, doc.id, "processing")
        repo.set_document_status(session, doc.id, "extracted")
        session.commit()
    return {"app_id": app.id, "application_no": app.application_no, "doc_id": doc.id, "token": token,
            "index": "0", "page": "1", "sub_id": "no-such-subscription", "delivery_id": "no-such-delivery"}


def _fill(path: str, values: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        name = m.group(1)
        assert name in values, f"add a value for path parameter {name!r} to the authorisation test"
        return values[name]
    return re.sub(r"\{(\w+)\}", one, path)


def test_every_route_has_a_rule(world):
    _, client, _ = world
    routes = _routes(client.app)
    assert set(routes) - set(RULES) == set(), "routes without a row in RULES (say who may call them)"
    assert set(RULES) - set(routes) == set(), "rows in RULES for routes that no longer exist"
    for key, route in routes.items():
        rules = _rules_of(route)
        assert len(rules) == 1, f"{key} must declare exactly one auth.Rule dependency, has {rules}"
        assert rules[0] is RULE_OBJECTS[RULES[key].removeprefix("page:")], f"{key}: {rules[0]!r} != {RULES[key]}"


@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_admits_exactly_its_callers(world, key):
    services, client, tokens = world
    method, path = key
    for caller in CALLERS:
        target = _new_application(services)  # fresh each time: DELETE and uploads change things
        headers = {}
        if caller == "applicant":
            headers["Authorization"] = f"Bearer {target['token']}"
        elif caller != "none":
            headers["Authorization"] = f"Bearer {tokens[caller]}"
        r = client.request(method, _fill(path, target), headers=headers, follow_redirects=False)
        want = _expected(RULES[key], caller)
        where = f"{method} {path} as {caller}: {r.status_code} {r.text[:200]}"
        if want == "allow":
            assert r.status_code not in DENIED and r.status_code < 500, where
            if method == "GET":  # everything a GET names exists, so it must be served
                assert r.status_code == 200, where
        elif want == "redirect":
            assert r.status_code in (302, 303, 307) and "login" in r.headers.get("location", ""), where
        else:
            assert r.status_code == int(want), where
            assert r.json()["error"]["code"] in {"auth_required", "invalid_token", "forbidden", "not_found"}, where


def test_session_cookie_needs_the_csrf_token_for_changes(world):
    services, client, tokens = world
    target = _new_application(services)
    client.cookies.set(auth.SESSION_COOKIE, tokens["admin"])
    try:
        assert client.get("/v1/audit").status_code == 200  # reads need no CSRF token
        r = client.delete(f"/v1/applications/{target['app_id']}")
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = client.delete(f"/v1/applications/{target['app_id']}", headers={"X-CSRF-Token": "0" * 64})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = client.delete(f"/v1/applications/{target['app_id']}",
                          headers={"X-CSRF-Token": auth.csrf_token_for(tokens["admin"])})
        assert r.status_code == 200, r.text
        client.cookies.set(auth.SESSION_COOKIE, "stale")
        assert client.get("/v1/audit").json()["error"]["code"] == "auth_required"
    finally:
        client.cookies.clear()


def test_bearer_scheme_is_checked(world):
    _, client, tokens = world
    for header in ("Basic abc", "Bearer", "Bearer   ", tokens["reviewer"]):
        r = client.get("/v1/applications", headers={"Authorization": header})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token", header
