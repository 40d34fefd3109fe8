"""Masking, the audit log, erasure and retention, on SQLite and PostgreSQL (Redis db 11)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from loandocs import cli
from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.masking import mask_account_number, mask_id_number, mask_text
from loandocs.models import DocumentResult, ExtractedField, Transaction
from loandocs.services import Services, set_services
from loandocs.store import access, erasure
from loandocs.store import repository as repo
from loandocs.store.tables import StatusHistory

from .helpers import staff_token

REDIS_URL = "redis://127.0.0.1:6379/11"
ID_NUMBER = "11010519491231002X"
ACCOUNT = "6222021001123456789"


def test_masking_keeps_region_and_last_four():
    assert mask_id_number(ID_NUMBER) == "110105********002X"
    assert mask_account_number("6222 0210 0112 3456 789") == "6222***********6789"
    line = f"job for {ID_NUMBER} paid to {ACCOUNT} on 2026-11-29, 12345.67 yuan, tel 13812345678"
    assert mask_text(line) == "job for 110105********002X paid to 6222***********6789 on 2026-11-29, 12345.67 yuan, tel 13812345678"


@pytest.fixture
def services(tmp_path, database_url):
    svc = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL, database_url=database_url))
    yield svc
    svc.engine.dispose()


def _application(svc: Services, content: bytes = b"%PDF-1.4 statement bytes") -> dict[str, str]:
    token, token_hash = repo.new_applicant_token()
    key = svc.files.put(content)
    page = svc.files.put(b"page image of " + content)
    with svc.sessions() as session:
        app = repo.create_application(session, applicant_name="隐私测试", loan_type="personal_consumer", amount=1000,
                                      term_months=12, applicant_token_hash=token_hash)
        repo.record_consent(session, app.id, text_version="t1", channel="web", ip="10.0.0.9")
        doc = repo.add_document(session, app.id, filename="statement.pdf", content_type="application/pdf",
                                size=len(content), sha256=hashlib.sha256(content).hexdigest(), storage_key=key)
        result = DocumentResult(
            file="statement.pdf", doc_type="bank_statement", pages=[1], page_images=[page],
            fields={"account_number": ExtractedField(value=ACCOUNT, confidence=0.99),
                    "id_number": ExtractedField(value=ID_NUMBER, confidence=0.99)},
            transactions=[Transaction(date="2026-10-01", description=f"转账 {ACCOUNT}", amount=-10.0, balance=90.0)])
        repo.add_extraction(session, doc.id, [result], extractor_version="test")
        session.commit()
    return {"app_id": app.id, "doc_id": doc.id, "token": token, "key": key, "page": page, "no": app.application_no}


def test_identifiers_are_shown_in_full_to_reviewers_only_and_every_read_is_audited(services):
    target = _application(services)
    tokens = {"reviewer": staff_token(services, "reviewer", "rev-1"), "admin": staff_token(services, "admin", "adm-1"),
              "applicant": target["token"]}
    with TestClient(create_app(services)) as client:
        seen = {}
        for role, token in tokens.items():
            r = client.get(f"/v1/documents/{target['doc_id']}", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            part = r.json()["documents"][0]
            seen[role] = (part["fields"]["id_number"]["value"], part["fields"]["account_number"]["value"],
                          part["transactions"][0]["description"])
        assert seen["reviewer"] == (ID_NUMBER, ACCOUNT, f"转账 {ACCOUNT}")
        masked = ("110105********002X", "6222***********6789", "转账 6222***********6789")
        assert seen["admin"] == masked and seen["applicant"] == masked
        r = client.get(f"/v1/applications/{target['app_id']}", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert r.json()["documents"][0]["fields"]["id_number"]["value"] == "110105********002X"

        r = client.get("/v1/audit", params={"application_id": target["app_id"]},
                       headers={"Authorization": f"Bearer {tokens['admin']}"})
        events = r.json()["items"]
    reads = sorted((e["actor"], e["action"], e["object_type"]) for e in events)
    # The audit view's own read is logged after it lists, so it is not in this page.
    assert reads == sorted([
        ("rev-1", "read", "document"), ("adm-1", "read", "document"),
        (f"applicant:{target['app_id']}", "read", "document"), ("adm-1", "read", "application"),
    ])
    assert all(e["ip"] for e in events)
    # The log names what was read, never the values.
    assert ID_NUMBER not in json.dumps(events) and ACCOUNT not in json.dumps(events)


def test_audit_log_is_append_only_in_the_database(services):
    with services.sessions() as session:
        access.audit(session, actor="x", role="admin", action="read", object_type="application", object_id="a")
        session.commit()
    for statement in ("UPDATE audit_events SET actor = 'y'", "DELETE FROM audit_events"):
        with services.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    with services.sessions() as session:
        assert [e.actor for e in access.list_audit(session)[1]] == ["x"]


def test_erase_removes_rows_and_files_and_keeps_an_anonymous_trail(services):
    target = _application(services)
    shared = _application(services, content=b"%PDF-1.4 other bytes")
    twin = _application(services, content=b"%PDF-1.4 other bytes")  # same upload in another application
    admin = staff_token(services, "admin", "adm-erase")
    with TestClient(create_app(services)) as client:
        h = {"Authorization": f"Bearer {admin}"}
        r = client.delete(f"/v1/applications/{target['app_id']}", params={"reason": "applicant request"}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json() == {"application_id": target["app_id"], "documents": 1, "files_removed": 2}
        assert client.get(f"/v1/applications/{target['app_id']}", headers=h).status_code == 404
        assert client.get(f"/v1/status/{target['no']}").status_code == 404
        # The applicant's token died with the application.
        r = client.get(f"/v1/applications/{target['app_id']}", headers={"Authorization": f"Bearer {target['token']}"})
        assert r.status_code == 401
        assert client.delete(f"/v1/applications/{shared['app_id']}", headers=h).json()["files_removed"] == 0
    assert not services.files.exists(target["key"]) and not services.files.exists(target["page"])
    assert services.files.get(twin["key"]) == b"%PDF-1.4 other bytes"  # still needed by the twin
    left = {"applications": ("id", target["app_id"]), "documents": ("application_id", target["app_id"]),
            "consents": ("application_id", target["app_id"]), "status_history": ("application_id", target["app_id"]),
            "extractions": ("document_id", target["doc_id"]), "field_corrections": ("document_id", target["doc_id"])}
    with services.engine.connect() as conn:
        for table, (column, value) in left.items():
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE {column} = :v"), {"v": value}).scalar() == 0, table
    with services.sessions() as session:
        _, trail = access.list_audit(session, application_id=target["app_id"])
    assert [e.action for e in trail][0] == "erase" and trail[0].actor == "adm-erase"
    assert trail[0].detail == {"reason": "applicant request", "documents": 1, "files": 2}


def test_retention_erases_rejected_applications_past_the_period(services, capsys):
    old, recent, approved = (_application(services, content=f"%PDF-1.4 {n}".encode()) for n in ("old", "recent", "approved"))
    now = dt.datetime.now(dt.timezone.utc)
    with services.sessions() as session:
        for target, status_path, when in ((old, ["accepted", "collected", "under_review", "rejected"], now - dt.timedelta(days=200)),
                                          (recent, ["accepted", "collected", "under_review", "rejected"], now - dt.timedelta(days=10)),
                                          (approved, ["accepted", "collected", "under_review", "approved"], now - dt.timedelta(days=400))):
            for s in status_path:
                repo.change_status(session, target["app_id"], s, actor="t")
            session.flush()
            session.execute(StatusHistory.__table__.update()
                            .where(StatusHistory.application_id == target["app_id"]).values(at=when))
        session.commit()
        assert erasure.expired_applications(session, rejected_after_days=180) == [old["app_id"]]
    set_services(services)
    try:
        assert cli.main(["erase", "--expired", "--dry-run"]) == 0
        assert capsys.readouterr().out.split() == [old["app_id"]]
        assert cli.main(["erase", "--expired"]) == 0
        assert capsys.readouterr().out.startswith(f"erased {old['app_id']}: 1 document(s), 2 file(s)")
        assert cli.main(["erase", "--expired"]) == 0
        assert "nothing to erase" in capsys.readouterr().out
    finally:
        set_services(None)
    with services.sessions() as session:
        assert {a.id for a in [repo.get_application(session, recent["app_id"]), repo.get_application(session, approved["app_id"])]}
        with pytest.raises(repo.NotFound):
            repo.get_application(session, old["app_id"])


def test_token_commands_create_list_and_revoke(services, capsys):
    set_services(services)
    try:
        assert cli.main(["token", "create", "--role", "reviewer", "--name", "王审核"]) == 0
        token = capsys.readouterr().out.strip()
        assert token.startswith("ld_rev_") and len(token) > 40
        with services.sessions() as session:
            ident = access.identify(session, token)
            assert ident is not None and (ident.role, ident.name) == ("reviewer", "王审核")
        assert cli.main(["token", "list"]) == 0
        listing = capsys.readouterr().out
        assert "王审核" in listing and "live" in listing and token not in listing
        assert cli.main(["token", "revoke", "王审核"]) == 0
        capsys.readouterr()
        with services.sessions() as session:
            assert access.identify(session, token) is None
            actions = [e.action for e in access.list_audit(session)[1]]
        assert actions[:2] == ["token_revoke", "token_create"]
        assert cli.main(["token", "revoke", "王审核"]) == 3  # nothing live left: token_not_found
        assert "token_not_found" in capsys.readouterr().err
    finally:
        set_services(None)
