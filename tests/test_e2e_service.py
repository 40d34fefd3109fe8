"""End to end through the real parts: HTTP API -> Redis queue -> worker (in-process burst)
-> store -> assessment, on one applicant's consistent materials."""

from __future__ import annotations

import os
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.samplegen.bundle import application_bundle
from loandocs.services import Services, set_services
from loandocs.worker.runner import run_worker

from .helpers import pg_schema

# Real OCR of whole applications, twice (SQLite and PostgreSQL): make test runs it, make test-fast not.
pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("LOANDOCS_TEST_REDIS_URL_E2E", "redis://127.0.0.1:6379/10")


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request, tmp_path):
    r = Redis.from_url(REDIS_URL)
    r.flushdb()
    with ExitStack() as stack:
        database_url = stack.enter_context(pg_schema()) if request.param == "postgresql" else None
        svc = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL, database_url=database_url))
        set_services(svc)
        with TestClient(create_app(svc)) as client:
            yield svc, client
        set_services(None)
        svc.engine.dispose()
    r.flushdb()


def _create(client) -> dict:
    resp = client.post("/v1/applications", json={
        "applicant_name": "测试", "loan_type": "personal_consumer", "amount": 80000, "term_months": 24,
        "purpose": "装修", "application_date": "2026-11-29", "consent": {"agreed": True, "version": "2026-11"},
    })
    assert resp.status_code == 201, resp.text
    # From here on the client is that applicant, with the token its creation returned.
    client.headers["Authorization"] = f"Bearer {resp.json()['applicant_token']}"
    return resp.json()


def _upload(client, app_id, path):
    resp = client.post(f"/v1/applications/{app_id}/documents", files={"file": (path.name, path.read_bytes())})
    assert resp.status_code == 202, resp.text
    assert resp.json()["status"] == "queued"


def test_four_materials_make_an_application_collected(service, tmp_path):
    svc, client = service
    app = _create(client)
    for path in application_bundle(tmp_path / "bundle", seed=3):
        _upload(client, app["id"], path)
    run_worker(svc, burst=True)
    got = client.get(f"/v1/applications/{app['id']}").json()
    assert {d["status"] for d in got["documents"]} == {"extracted"}
    assert got["status"] == "collected", (got["supplement"], got["review"])
    assert got["completeness"] == 100
    assert [h["to_status"] for h in got["history"]] == ["submitted", "accepted", "collected"]

    # Every box is drawn on the page image the worker kept: same size as the document says.
    import cv2
    import numpy as np

    doc_id = got["documents"][0]["id"]
    detail = client.get(f"/v1/documents/{doc_id}").json()["documents"][0]
    resp = client.get(f"/v1/documents/{doc_id}/pages/0/1.jpg")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(resp.content, np.uint8), cv2.IMREAD_COLOR)
    assert (image.shape[1], image.shape[0]) == (detail["quality"][0]["width"], detail["quality"][0]["height"])
    assert client.get(f"/v1/documents/{doc_id}/pages/0/9.jpg").status_code == 404


def test_expired_id_needs_supplement_then_a_new_upload_moves_it_on(service, tmp_path):
    svc, client = service
    app = _create(client)
    expired = application_bundle(tmp_path / "expired", seed=5, validity="expired")
    for path in expired:
        _upload(client, app["id"], path)
    run_worker(svc, burst=True)
    got = client.get(f"/v1/applications/{app['id']}").json()
    assert got["status"] == "needs_supplement"
    assert ("document_expired", "id_card_back") in {(s["code"], s["doc_type"]) for s in got["supplement"]}
    lookup = client.get(f"/v1/status/{app['application_no']}").json()
    assert lookup["status"] == "needs_supplement"
    assert "document_expired" in {s["code"] for s in lookup["supplement"]}

    # The applicant uploads a valid back side (the back carries no name or number).
    valid_back = application_bundle(tmp_path / "valid", seed=5)[1]
    _upload(client, app["id"], valid_back)
    assert client.get(f"/v1/applications/{app['id']}").json()["status"] == "accepted"
    run_worker(svc, burst=True)
    got = client.get(f"/v1/applications/{app['id']}").json()
    assert got["status"] == "collected", got["supplement"]
    assert [h["to_status"] for h in got["history"]][-3:] == ["needs_supplement", "accepted", "collected"]
