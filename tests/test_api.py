"""HTTP API against SQLite and PostgreSQL, with a real Redis (db 12). No worker runs here:
uploads are only checked up to the queued job."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq import Queue

from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.extractor.options import Limits
from loandocs.services import Services
from loandocs.worker.queue import DEFAULT_QUEUE

from .helpers import staff_token

ROOT = Path(__file__).resolve().parent.parent
PDF = ROOT / "samples" / "financial" / "income_pdf_001.pdf"
REDIS_URL = os.environ.get("LOANDOCS_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")

NEW_APP = {"applicant_name": "张伟", "loan_type": "personal_consumer", "amount": "150000.50", "term_months": 36,
           "purpose": "装修", "application_date": "2026-11-29", "consent": {"agreed": True, "version": "2026-01"}}


@pytest.fixture
def redis():
    r = Redis.from_url(REDIS_URL)
    r.flushdb()
    yield r
    r.flushdb()
    r.close()


def _client(tmp_path, database_url, **settings):
    services = Services(Settings(data_dir=tmp_path, redis_url=REDIS_URL, database_url=database_url, **settings))
    client = TestClient(create_app(services), raise_server_exceptions=False)
    # These tests are about the API's behaviour, not who may call it (test_authorization.py):
    # they act as a reviewer, who may call every route they use.
    client.headers["Authorization"] = f"Bearer {staff_token(services)}"
    return services, client


@pytest.fixture
def api(tmp_path, database_url, redis):
    services, client = _client(tmp_path, database_url)
    with client:
        yield client
    services.engine.dispose()


def _create(client, **changes) -> dict:
    r = client.post("/v1/applications", json={**NEW_APP, **changes})
    assert r.status_code == 201, r.text
    return r.json()


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"], body
    return body["error"]


def test_create_application(api):
    out = _create(api)
    assert set(out) == {"id", "application_no", "status", "applicant_token"}
    assert out["status"] == "submitted"
    assert out["application_no"].startswith("LD") and len(out["applicant_token"]) >= 32
    second = _create(api)
    assert second["application_no"] > out["application_no"]


def test_create_requires_consent(api):
    body = {k: v for k, v in NEW_APP.items() if k != "consent"}
    _error(api.post("/v1/applications", json=body), 422, "consent_required")
    _error(api.post("/v1/applications", json={**NEW_APP, "consent": {"agreed": False, "version": "1"}}),
           422, "consent_required")


def test_create_validation(api):
    _error(api.post("/v1/applications", json={**NEW_APP, "loan_type": "yacht"}), 422, "unknown_loan_type")
    err = _error(api.post("/v1/applications", json={**NEW_APP, "amount": -1}), 422, "invalid_request")
    assert "Traceback" not in str(err)
    _error(api.post("/v1/applications", content=b"{not json", headers={"content-type": "application/json"}),
           422, "invalid_request")


def test_upload_queues_job(api, redis):
    app = _create(api)
    r = api.post(f"/v1/applications/{app['id']}/documents",
                 files={"file": ("收入证明.pdf", PDF.read_bytes(), "application/pdf")})
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["status"] == "queued"
    jobs = Queue(DEFAULT_QUEUE, connection=redis).jobs
    assert [j.args for j in jobs] == [(out["document_id"],)]

    doc = api.get(f"/v1/documents/{out['document_id']}").json()
    assert doc["status"] == "queued" and doc["application_id"] == app["id"] and doc["documents"] == []

    got = api.get(f"/v1/applications/{app['id']}")
    assert got.status_code == 200, got.text
    body = got.json()
    for key in ("id", "application_no", "status", "completeness", "checklist", "documents", "supplement",
                "review", "history"):
        assert key in body
    assert body["status"] in ("submitted", "accepted")
    assert body["completeness"] == 0 and body["checklist"] and not any(i["present"] for i in body["checklist"])
    assert [(d["id"], d["status"]) for d in body["documents"]] == [(out["document_id"], "queued")]
    assert body["history"][0]["to_status"] == "submitted"


@pytest.mark.slow  # waits out the Redis client's connection retries
def test_upload_without_redis_stays_received(tmp_path, database_url, redis):
    services, client = _client(tmp_path, database_url)
    services.__dict__["redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)  # nothing listens
    with client:
        app = _create(client)
        r = client.post(f"/v1/applications/{app['id']}/documents", files={"file": ("a.pdf", PDF.read_bytes())})
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "received"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable" and ready.json()["checks"]["database"] == "ok"
    services.engine.dispose()


def test_upload_too_large(tmp_path, database_url, redis):
    services, client = _client(tmp_path, database_url, limits=Limits(max_file_bytes=1000))
    with client:
        app = _create(client)
        r = client.post(f"/v1/applications/{app['id']}/documents", files={"file": ("a.pdf", PDF.read_bytes())})
        _error(r, 413, "file_too_large")
        assert Queue(DEFAULT_QUEUE, connection=redis).count == 0
    services.engine.dispose()


def test_upload_limit_is_enforced_while_streaming(tmp_path, database_url, redis):
    """A body over the limit is refused by its Content-Length before it is read, and a
    chunked body without one is cut off as soon as the count passes the limit."""
    services, client = _client(tmp_path, database_url, limits=Limits(max_file_bytes=1000))
    with client:
        app = _create(client)
        url = f"/v1/applications/{app['id']}/documents"
        sent = []

        def chunks():
            for _ in range(64):  # 64 x 64 KiB = 4 MiB offered
                sent.append(1)
                yield b"x" * 65536

        r = client.post(url, content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        _error(r, 413, "file_too_large")
        big = b"x" * (2 * 1024 * 1024)
        r = client.post(url, content=big, headers={"content-type": "multipart/form-data; boundary=b", "content-length": str(len(big))})
        _error(r, 413, "file_too_large")
        assert not list((tmp_path / "documents").rglob("*")) or all(p.is_dir() for p in (tmp_path / "documents").rglob("*"))
    services.engine.dispose()


def test_body_limit_stops_reading_at_the_limit():
    """At the ASGI level: the middleware pulls only as many chunks as it takes to pass the
    limit, answers 413, and the app behind it sees the client gone."""
    import asyncio

    from loandocs.api.limits import OVERHEAD, BodyLimit

    chunk = {"type": "http.request", "body": b"x" * 65536, "more_body": True}
    pulled, sent, inner_saw = [], [], []

    async def receive():
        pulled.append(1)
        return chunk

    async def send(message):
        sent.append(message)

    async def inner(scope, receive, send):
        while True:
            m = await receive()
            inner_saw.append(m["type"])
            if m["type"] != "http.request" or not m.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})

    app = BodyLimit(inner, lambda: 1000)
    asyncio.run(app({"type": "http", "method": "POST", "headers": []}, receive, send))
    assert len(pulled) == (1000 + OVERHEAD) // 65536 + 1
    assert sent[0]["status"] == 413 and len(sent) == 2
    assert inner_saw[-1] == "http.disconnect"


def test_upload_checked_by_content(api, redis):
    app = _create(api)
    url = f"/v1/applications/{app['id']}/documents"
    _error(api.post(url, files={"file": ("scan.pdf", b"just some text\n", "application/pdf")}), 415,
           "unsupported_type")
    _error(api.post(url, files={"file": ("empty.jpg", b"", "image/jpeg")}), 422, "empty_file")
    _error(api.post(url, data={"other": "x"}), 422, "invalid_request")
    assert Queue(DEFAULT_QUEUE, connection=redis).count == 0
    assert api.get(f"/v1/applications/{app['id']}").json()["documents"] == []


def test_status_lookup_and_list(api):
    a = _create(api)
    b = _create(api, loan_type="mortgage")
    r = api.get(f"/v1/status/{a['application_no']}")
    assert r.status_code == 200 and r.json() == {"application_no": a["application_no"], "status": "submitted",
                                                 "supplement": []}
    listed = api.get("/v1/applications").json()
    assert listed["total"] == 2 and {i["id"] for i in listed["items"]} == {a["id"], b["id"]}
    only = api.get("/v1/applications", params={"loan_type": "mortgage", "status": "submitted"}).json()
    assert [i["id"] for i in only["items"]] == [b["id"]]
    page = api.get("/v1/applications", params={"limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    _error(api.get("/v1/applications", params={"limit": 0}), 422, "invalid_request")


def test_unknown_ids(api):
    _error(api.get("/v1/applications/nope"), 404, "not_found")
    _error(api.get("/v1/documents/nope"), 404, "not_found")
    _error(api.get("/v1/status/LD20000101-000001"), 404, "not_found")
    _error(api.post("/v1/applications/nope/documents", files={"file": ("a.pdf", b"%PDF-1.4")}), 404, "not_found")
    _error(api.get("/v1/no-such-route"), 404, "not_found")


def test_health_and_openapi(api):
    assert api.get("/healthz").json() == {"status": "ok", "checks": {}}
    r = api.get("/readyz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    paths = api.get("/openapi.json").json()["paths"]
    for p in ("/v1/applications", "/v1/applications/{app_id}", "/v1/applications/{app_id}/documents",
              "/v1/status/{application_no}", "/v1/documents/{doc_id}"):
        assert p in paths


def test_unexpected_error_is_500_without_traceback(api, monkeypatch):
    from loandocs.api import routes

    def boom(*_a, **_k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(routes.repo, "get_application_by_no", boom)
    r = api.get("/v1/status/LD1", headers={"X-Request-ID": "req-42"})
    err = _error(r, 500, "internal_error")
    assert "secret" not in str(err)
    assert r.headers["X-Request-ID"] == "req-42"  # so the caller can quote it to support


def test_extracted_documents_and_new_upload_after_supplement(api):
    from loandocs.models import DocumentResult, ExtractedField
    from loandocs.store import repository as repo

    services = api.app.state.services
    app = _create(api)
    doc_id = api.post(f"/v1/applications/{app['id']}/documents", files={"file": ("id.pdf", PDF.read_bytes())}).json()["document_id"]
    front = DocumentResult(file="id.pdf", doc_type="id_card_front", pages=[1],
                           fields={"name": ExtractedField(value="张伟", confidence=0.99, page=1, bbox=[1, 2, 3, 4])})
    with services.sessions() as s:  # what the worker would do
        repo.set_document_status(s, doc_id, "processing")
        repo.add_extraction(s, doc_id, [front], extractor_version="test")
        repo.set_document_status(s, doc_id, "extracted", doc_type="id_card_front")
        repo.add_correction(s, doc_id, "name", "张三", corrected_by="reviewer1")
        for to in ("accepted", "needs_supplement"):
            repo.change_status(s, app["id"], to, actor="system")
        s.commit()

    doc = api.get(f"/v1/documents/{doc_id}").json()
    assert doc["extraction_version"] == 1 and doc["documents"][0]["fields"]["name"]["value"] == "张三"
    assert doc["documents"][0]["fields"]["name"]["source"] == "reviewer"

    body = api.get(f"/v1/applications/{app['id']}").json()
    (d,) = body["documents"]
    assert d["doc_type"] == "id_card_front" and d["fields"]["name"]["value"] == "张三" and d["checks"]
    present = {i["doc_type"] for i in body["checklist"] if i["present"]}
    assert present == {"id_card_front"}
    assert {f["code"] for f in body["supplement"]} >= {"missing_document"}

    r = api.post(f"/v1/applications/{app['id']}/documents", files={"file": ("again.pdf", PDF.read_bytes())})
    assert r.status_code == 202, r.text
    body = api.get(f"/v1/applications/{app['id']}").json()
    assert body["status"] == "accepted"
    assert (body["history"][-1]["actor"], body["history"][-1]["reason"]) == ("test-reviewer", "new upload")
