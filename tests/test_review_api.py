"""The reviewer API (queue, corrections, claim, decisions, supplement requests, disbursement)
on SQLite and PostgreSQL, with the real store, assessment and the worker's reassess.

Applications are seeded with extraction results written through the repository (what a
worker would store), so these tests need no OCR; test_web.py runs the real pipeline."""

from __future__ import annotations

import datetime as dt
import hashlib

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from redis import Redis

from loandocs import workflow
from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.extractor.idnumber import check_char
from loandocs.models import DocumentResult, ExtractedField, PageQuality, Transaction
from loandocs.services import Services
from loandocs.store import access
from loandocs.store import repository as repo
from loandocs.store.tables import Application
from loandocs.workflow import review as rules

from .helpers import SAMPLE_DATE, staff_token

REDIS_URL = "redis://127.0.0.1:6379/9"
ID_NUMBER = "11010119900307031" + check_char("11010119900307031")
ACCOUNT = "6222020200112233445"


def _f(value, x=10, y=10, confidence=0.99, page=1, source="ocr"):
    return ExtractedField(value=value, confidence=confidence, page=page, bbox=[x, y, x + 200, y + 40], source=source)


def statement(broken_row: int | None = None) -> DocumentResult:
    """Seven months of salary and spending; ``broken_row`` gets a balance that does not follow."""
    txs, balance = [], 1000.0
    for i, month in enumerate(range(5, 12)):
        for day, amount, desc in ((10, 17000.0, "代发工资"), (15, -16000.0, "消费")):
            balance = round(balance + amount, 2)
            txs.append(Transaction(date=f"2026-{month:02d}-{day:02d}", description=desc, amount=amount, balance=balance,
                                   counterparty="北京某科技有限公司" if amount > 0 else "某商户", page=1,
                                   bbox=[40, 300 + 30 * len(txs), 1500, 325 + 30 * len(txs)], confidence=0.99))
    if broken_row is not None:
        txs[broken_row] = txs[broken_row].model_copy(update={"balance": txs[broken_row].balance + 500})
    credits = sum(t.amount for t in txs if t.amount > 0)
    debits = -sum(t.amount for t in txs if t.amount < 0)
    fields = {"bank_name": _f("中国银行"), "account_holder": _f("王芳"), "account_number": _f(ACCOUNT),
              "period_start": _f("2026-05-01"), "period_end": _f("2026-11-20"), "currency": _f("CNY"),
              "opening_balance": _f(1000.0), "closing_balance": _f(balance), "total_credits": _f(credits),
              "total_debits": _f(debits), "monthly_salary_estimate": _f(17000.0, confidence=0.9, source="derived")}
    return DocumentResult(file="statement.pdf", doc_type="bank_statement", pages=[1], fields=fields, transactions=txs,
                          quality=[PageQuality(page=1, width=1653, height=2338)])


def front(id_number: str = ID_NUMBER, name_confidence: float = 0.99) -> DocumentResult:
    fields = {"name": _f("王芳", 200, 70, name_confidence), "sex": _f("男", 200, 160), "ethnicity": _f("汉", 440, 160),
              "birth_date": _f("1990-03-07", 200, 260), "address": _f("北京市东城区东华门街道100号", 200, 360),
              "id_number": _f(id_number, 390, 550)}
    return DocumentResult(file="id_front.jpg", doc_type="id_card_front", pages=[1], fields=fields,
                          quality=[PageQuality(page=1, width=1100, height=694)])


def back() -> DocumentResult:
    fields = {"issuing_authority": _f("北京市公安局东城分局", 420, 450), "valid_from": _f("2020-01-01", 415, 550),
              "valid_until": _f("2040-01-01", 700, 550)}
    return DocumentResult(file="id_back.jpg", doc_type="id_card_back", pages=[1], fields=fields,
                          quality=[PageQuality(page=1, width=1100, height=694)])


def certificate() -> DocumentResult:
    fields = {"employee_name": _f("王芳"), "id_number": _f(ID_NUMBER), "employer": _f("北京某科技有限公司"),
              "position": _f("工程师"), "employment_start": _f("2015-06"), "monthly_income": _f(20000.0),
              "annual_income": _f(240000.0), "issue_date": _f("2026-11-01"), "contact_phone": _f("010-12345678"),
              "has_seal": _f(True)}
    return DocumentResult(file="income.pdf", doc_type="income_certificate", pages=[1], fields=fields,
                          quality=[PageQuality(page=1, width=1653, height=2338)])


def credit_report() -> DocumentResult:
    fields = {"report_no": _f("2026112012345678901234"), "report_time": _f("2026-11-20"), "name": _f("王芳"),
              "id_type": _f("身份证"), "id_number": _f(ID_NUMBER), "query_reason": _f("贷款审批")}
    return DocumentResult(file="credit.pdf", doc_type="credit_report", pages=[1], fields=fields,
                          quality=[PageQuality(page=1, width=1653, height=2338)])


def property_certificate() -> DocumentResult:
    fields = {"certificate_no": _f("京(2020)东城区不动产权第0012345号"), "owners": _f("王芳"), "co_ownership": _f("单独所有"),
              "location": _f("北京市东城区东华门街道100号1单元101"), "right_nature": _f("商品房"), "usage": _f("住宅"),
              "area_m2": _f(89.5)}
    return DocumentResult(file="property.pdf", doc_type="property_certificate", pages=[1], fields=fields,
                          quality=[PageQuality(page=1, width=1653, height=2338)])


def mortgage_materials() -> list[list[DocumentResult]]:
    """A mortgage also asks for the credit report and the property certificate (issue 14)."""
    return materials() + [[credit_report()], [property_certificate()]]


def materials(**changes) -> list[list[DocumentResult]]:
    """One file per material, as the applicant would upload them."""
    return [[changes.get("front", front())], [back()], [certificate()], [changes.get("statement", statement())]]


def page_image(width: int, height: int, seed: str) -> bytes:
    image = np.full((height, width, 3), 235, np.uint8)
    cv2.putText(image, seed[:20], (30, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (40, 40, 40), 2)
    return cv2.imencode(".jpg", image)[1].tobytes()


def add_file(services: Services, session, app_id: str, parts: list[DocumentResult], tag: str) -> str:
    """Store one file and its extraction the way the worker does (page images included)."""
    raw = f"{app_id}:{tag}".encode()
    doc = repo.add_document(session, app_id, filename=parts[0].file, content_type="image/jpeg", size=len(raw),
                            sha256=hashlib.sha256(raw).hexdigest(), storage_key=services.files.put(raw))
    parts = [p.model_copy(update={"page_images": [services.files.put(page_image(q.width, q.height, f"{tag}{q.page}"))
                                                  for q in p.quality]}) for p in parts]
    repo.add_extraction(session, doc.id, parts, extractor_version="test")
    for st in ("queued", "processing"):
        repo.set_document_status(session, doc.id, st)
    repo.set_document_status(session, doc.id, "extracted", doc_type=parts[0].doc_type)
    return doc.id


def seed_application(services: Services, files: list[list[DocumentResult]] | None = None, *, name: str = "王芳",
                     loan_type: str = "personal_consumer", application_date: dt.date = SAMPLE_DATE,
                     created_at: dt.datetime | None = None, amount: int = 80000) -> dict:
    """An application with these files extracted and assessed by the worker's own reassess."""
    token, token_hash = repo.new_applicant_token()
    with services.sessions.begin() as s:
        app = repo.create_application(s, applicant_name=name, loan_type=loan_type, amount=amount, term_months=24,
                                      purpose="装修", application_date=application_date, applicant_token_hash=token_hash)
        repo.record_consent(s, app.id, text_version="t", channel="api")
        docs = [add_file(services, s, app.id, parts, f"f{i}") for i, parts in enumerate(files or [])]
        if files:
            workflow.reassess(s, app.id)
        if created_at is not None:
            s.get(Application, app.id).created_at = created_at
    with services.sessions() as s:
        app = repo.get_application(s, app.id)
    return {"id": app.id, "application_no": app.application_no, "status": app.status, "docs": docs, "token": token}


@pytest.fixture
def world(tmp_path, database_url):
    r = Redis.from_url(REDIS_URL)
    r.flushdb()
    services = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL, database_url=database_url))
    reviewer = staff_token(services, "reviewer", name="李审核")
    admin = staff_token(services, "admin", name="管理员甲")
    with TestClient(create_app(services), raise_server_exceptions=False) as client:
        yield services, client, {"reviewer": {"Authorization": f"Bearer {reviewer}"},
                                 "admin": {"Authorization": f"Bearer {admin}"}}
    services.engine.dispose()
    r.flushdb()


def _error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


def _audit(services: Services, action: str) -> list:
    with services.sessions() as s:
        return access.list_audit(s, action=action)[1]


def test_queue_filters_sorts_counts_and_masks(world):
    services, client, h = world
    t0 = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
    old = seed_application(services, materials(), name="甲", created_at=t0)
    broken = seed_application(services, materials(statement=statement(broken_row=3)), name="乙",
                              created_at=t0 + dt.timedelta(days=1))
    short = seed_application(services, materials()[:2], name="丙", created_at=t0 + dt.timedelta(days=2),
                             application_date=dt.date(2026, 11, 1))
    mortgage = seed_application(services, mortgage_materials(), name="丁", loan_type="mortgage",
                                created_at=t0 + dt.timedelta(days=3))
    fresh = seed_application(services, None, name="戊", created_at=t0 + dt.timedelta(days=4))
    assert (old["status"], broken["status"], short["status"], fresh["status"]) == (
        "collected", "collected", "needs_supplement", "submitted")

    r = client.get("/v1/review/queue", headers=h["reviewer"])
    assert r.status_code == 200, r.text
    body = r.json()
    # Default view: waiting for review or supplement, the longest-waiting first.
    ids = [it["id"] for it in body["items"]]
    assert fresh["id"] not in ids and ids[:3] == [old["id"], broken["id"], short["id"]]
    assert body["total"] == len(ids)
    assert body["counts"]["submitted"] == 1 and body["counts"]["collected"] >= 2
    assert sum(body["counts"].values()) == 5
    first = body["items"][0]
    assert first["id_number"] == ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]
    assert first["completeness"] == 100 and first["age_hours"] > 24 and first["applicant_name"] == "甲"

    newest = client.get("/v1/review/queue?sort=newest", headers=h["reviewer"]).json()["items"]
    assert [it["id"] for it in newest] == list(reversed(ids))

    flagged = client.get("/v1/review/queue?flag=balance_inconsistent", headers=h["reviewer"]).json()
    assert [it["id"] for it in flagged["items"]] == [broken["id"]] and flagged["total"] == 1
    assert "balance_inconsistent" in flagged["items"][0]["flags"]
    missing = client.get("/v1/review/queue?flag=missing_document", headers=h["reviewer"]).json()
    assert [it["id"] for it in missing["items"]] == [short["id"]]

    by_type = client.get("/v1/review/queue?loan_type=mortgage", headers=h["reviewer"]).json()
    assert {it["id"] for it in by_type["items"]} <= {mortgage["id"]}
    assert by_type["counts"] == {mortgage["status"]: 1}
    dated = client.get("/v1/review/queue?date_from=2026-10-01&date_to=2026-11-15", headers=h["reviewer"]).json()
    assert [it["id"] for it in dated["items"]] == [short["id"]]
    both = client.get("/v1/review/queue?status=submitted&status=collected", headers=h["reviewer"]).json()
    assert fresh["id"] in [it["id"] for it in both["items"]] and short["id"] not in [it["id"] for it in both["items"]]

    page = client.get("/v1/review/queue?limit=1&offset=1", headers=h["reviewer"]).json()
    assert [it["id"] for it in page["items"]] == [ids[1]] and page["total"] == body["total"]
    # Admins may read the queue; applicants may not; every read is in the audit log.
    assert client.get("/v1/review/queue", headers=h["admin"]).status_code == 200
    assert client.get("/v1/review/queue", headers={"Authorization": f"Bearer {old['token']}"}).status_code == 403
    assert len(_audit(services, "list")) >= 8


def test_claim_decide_disburse_and_only_legal_moves(world):
    services, client, h = world
    app = seed_application(services, materials(), amount=80000)
    base = f"/v1/applications/{app['id']}"

    def actions():
        return [a["action"] for a in client.get(f"{base}/actions", headers=h["reviewer"]).json()["actions"]]

    assert actions() == ["claim"]
    _error(client.post(f"{base}/decision", json={"decision": "approve", "opinion": "ok"}, headers=h["reviewer"]),
           409, "illegal_transition")
    _error(client.post(f"{base}/claim", headers=h["admin"]), 403, "forbidden")
    r = client.post(f"{base}/claim", json={"note": "我来审"}, headers=h["reviewer"])
    assert r.status_code == 200 and r.json()["status"] == "under_review", r.text
    assert actions() == ["approve", "reject", "request_supplement"]
    _error(client.post(f"{base}/claim", headers=h["reviewer"]), 409, "illegal_transition")
    _error(client.post(f"{base}/decision", json={"decision": "approve", "opinion": ""}, headers=h["reviewer"]),
           422, "invalid_request")
    r = client.post(f"{base}/decision", json={"decision": "approve", "opinion": "收入稳定，资料齐全"}, headers=h["reviewer"])
    assert r.json()["status"] == "approved" and r.json()["review_opinion"] == "收入稳定，资料齐全"
    assert actions() == ["disburse"]
    _error(client.post(f"{base}/disbursement", json={"date": "2026-12-01", "amount": "80000.01"}, headers=h["reviewer"]),
           422, "disbursement_exceeds_amount")
    r = client.post(f"{base}/disbursement", json={"date": "2026-12-01", "amount": "75000"}, headers=h["reviewer"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["disbursement_date"], float(out["disbursement_amount"])) == ("disbursed", "2026-12-01", 75000.0)
    assert actions() == []
    _error(client.post(f"{base}/decision", json={"decision": "reject", "opinion": "x"}, headers=h["reviewer"]),
           409, "illegal_transition")
    history = client.get(base, headers=h["reviewer"]).json()["history"]
    assert [(x["to_status"], x["actor"]) for x in history][-4:] == [
        ("collected", workflow.ACTOR), ("under_review", "李审核"), ("approved", "李审核"), ("disbursed", "李审核")]
    assert {e.action for e in _audit(services, "claim") + _audit(services, "approve") + _audit(services, "disburse")} == {
        "claim", "approve", "disburse"}


def test_supplement_request_reaches_the_applicants_status_lookup(world):
    services, client, h = world
    app = seed_application(services, materials(statement=statement(broken_row=2)))
    base = f"/v1/applications/{app['id']}"
    _error(client.post(f"{base}/supplement-request", json={"note": "x"}, headers=h["reviewer"]), 409, "illegal_transition")
    client.post(f"{base}/claim", headers=h["reviewer"])
    offered = client.get(f"{base}/actions", headers=h["reviewer"]).json()["supplement_reasons"]
    keys = {(o["code"], o["doc_type"]) for o in offered}
    # The broken balance is offered in the applicant's words, and every material can be asked again.
    assert ("balance_inconsistent", "bank_statement") in keys
    assert {("resubmit", m) for m in ("id_card_front", "id_card_back", "income_certificate", "bank_statement")} <= keys
    balance = next(o for o in offered if o["code"] == "balance_inconsistent")
    assert "银行业务章" in balance["message_zh"] and "人工" not in balance["message_zh"]

    _error(client.post(f"{base}/supplement-request", json={"reasons": [{"code": "made_up", "doc_type": "x"}]},
                       headers=h["reviewer"]), 422, "unknown_supplement_reason")
    _error(client.post(f"{base}/supplement-request", json={"reasons": []}, headers=h["reviewer"]), 422, "invalid_request")
    r = client.post(f"{base}/supplement-request", headers=h["reviewer"], json={
        "reasons": [{"code": "balance_inconsistent", "doc_type": "bank_statement"}], "note": "请一并提供近三个月工资单"})
    assert r.status_code == 200 and r.json()["status"] == "needs_supplement", r.text

    lookup = client.get(f"/v1/status/{app['application_no']}").json()
    assert lookup["status"] == "needs_supplement"
    assert [x["message_zh"] for x in lookup["supplement"]] == [balance["message_zh"], "请一并提供近三个月工资单"]
    assert {x["source"] for x in lookup["supplement"]} == {"reviewer"}
    progress = client.get(f"{base}/progress", headers={"Authorization": f"Bearer {app['token']}"}).json()
    assert [x["code"] for x in progress["supplement"]] == ["balance_inconsistent", "reviewer_note"]
    assert _audit(services, "request_supplement")[0].detail == {"codes": ["balance_inconsistent", "reviewer_note"]}


def test_correction_is_reviewer_sourced_reassesses_and_survives_reprocessing(world):
    services, client, h = world
    bad = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")  # wrong check digit: a misread
    app = seed_application(services, materials(front=front(bad)))
    assert app["status"] == "needs_supplement"
    doc_id = app["docs"][0]
    url = f"/v1/documents/{doc_id}/corrections"

    _error(client.post(url, json={"field": "birth_date", "value": "1990-02-30", "reason": "看图"}, headers=h["reviewer"]),
           422, "invalid_correction")
    _error(client.post(url, json={"field": "employer", "value": "x", "reason": "看图"}, headers=h["reviewer"]),
           422, "invalid_correction")
    _error(client.post(url, json={"field": "id_number", "value": ID_NUMBER, "reason": ""}, headers=h["reviewer"]),
           422, "invalid_request")
    _error(client.post(url, json={"field": "id_number", "value": ID_NUMBER, "reason": "x"}, headers=h["admin"]),
           403, "forbidden")

    r = client.post(url, json={"field": "id_number", "value": ID_NUMBER.lower(), "reason": "对照图片，末位识别错误"},
                    headers=h["reviewer"])
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["correction"]["value"] == ID_NUMBER and out["correction"]["corrected_by"] == "李审核"
    # The assessment ran again: nothing left to supplement, so the application moves on.
    assert out["status"] == "collected" and out["supplement"] == [] and out["completeness"] == 100

    got = client.get(f"/v1/applications/{app['id']}", headers=h["reviewer"]).json()
    field = got["documents"][0]["fields"]["id_number"]
    assert (field["value"], field["source"], field["confidence"]) == (ID_NUMBER, "reviewer", 1.0)
    assert field["bbox"] == front().fields["id_number"].bbox  # the box is still drawn where it was read
    assert [x["to_status"] for x in got["history"]][-3:] == ["needs_supplement", "accepted", "collected"]

    history = client.get(url, headers=h["reviewer"]).json()
    assert [(c["field"], c["value"], c["reason"], c["source"]) for c in history["items"]] == [
        ("id_number", ID_NUMBER, "对照图片，末位识别错误", "reviewer")]
    assert history["machine"] == [{"part": 0, "doc_type": "id_card_front", "field": "id_number", "value": bad,
                                   "confidence": 0.99}]
    masked = client.get(url, headers=h["admin"]).json()
    assert masked["items"][0]["value"] == ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]
    event = _audit(services, "correct")[0]
    assert event.actor == "李审核" and event.detail == {"field": "id_number", "part": 0}

    # Re-processing (a model upgrade) writes a new extraction with the machine's old misread:
    # the reviewer's value stays in effect.
    with services.sessions.begin() as s:
        repo.add_extraction(s, doc_id, [front(bad)], extractor_version="next")
    got = client.get(f"/v1/documents/{doc_id}", headers=h["reviewer"]).json()
    assert got["extraction_version"] == 2
    assert got["documents"][0]["fields"]["id_number"]["value"] == ID_NUMBER

    # After the decision nothing can be corrected any more.
    base = f"/v1/applications/{app['id']}"
    client.post(f"{base}/claim", headers=h["reviewer"])
    client.post(f"{base}/decision", json={"decision": "reject", "opinion": "不符合准入"}, headers=h["reviewer"])
    _error(client.post(url, json={"field": "name", "value": "王芳", "reason": "x"}, headers=h["reviewer"]),
           409, "application_closed")


def test_correction_in_a_mixed_file_goes_to_its_document(world):
    services, client, h = world
    files = [[front(), back()], [certificate()], [statement()]]
    app = seed_application(services, files)
    doc_id = app["docs"][0]
    url = f"/v1/documents/{doc_id}/corrections"
    r = client.post(url, json={"field": "valid_until", "value": "长期", "reason": "长期有效"}, headers=h["reviewer"])
    assert r.status_code == 201, r.text
    assert r.json()["correction"]["doc_type"] == "id_card_back" and r.json()["correction"]["value"] == "long_term"
    _error(client.post(url, json={"field": "name", "value": "王芳", "reason": "x", "part": 1}, headers=h["reviewer"]),
           422, "invalid_correction")
    _error(client.post(url, json={"field": "name", "value": "王芳", "reason": "x", "part": 5}, headers=h["reviewer"]),
           422, "invalid_correction")
    r = client.post(url, json={"field": "address", "value": "北京市东城区东华门街道101号", "reason": "门牌号", "part": 0},
                    headers=h["reviewer"])
    assert r.status_code == 201
    parts = client.get(f"/v1/documents/{doc_id}", headers=h["reviewer"]).json()["documents"]
    assert parts[0]["fields"]["address"]["value"] == "北京市东城区东华门街道101号"
    assert parts[1]["fields"]["valid_until"]["value"] == "long_term"
    assert "address" not in parts[1]["fields"] and "valid_until" not in parts[0]["fields"]


def test_corrections_are_stored_in_canonical_form():
    assert rules.coerce("monthly_income", "¥18,500.50") == 18500.5
    assert rules.coerce("opening_balance", -12.345) == -12.35  # balances may be negative, rounded to the fen
    assert rules.coerce("has_seal", "有") is True and rules.coerce("has_seal", "false") is False
    assert rules.coerce("valid_until", "长期") == "long_term" and rules.coerce("valid_from", "2020-01-02") == "2020-01-02"
    assert rules.coerce("employment_start", "2015-06") == "2015-06"
    assert rules.coerce("id_number", "11010119900307 031x") == "11010119900307031X"
    assert rules.coerce("account_number", "6222 0202-0011 2233") == "6222020200112233"
    assert rules.coerce("currency", "cny") == "CNY" and rules.coerce("name", "  王芳 ") == "王芳"
    assert rules.coerce("address", "") is None and rules.coerce("address", None) is None
    for field, value in [("monthly_income", "-1"), ("monthly_income", "abc"), ("monthly_income", "NaN"),
                         ("issue_date", "2026-13-01"), ("employment_start", "2015-13"), ("sex", "M"),
                         ("id_number", "12345"), ("has_seal", "maybe"), ("name", True), ("name", "x" * 501)]:
        with pytest.raises(rules.InvalidCorrection):
            rules.coerce(field, value)


def test_only_legal_actions_are_offered():
    for status, allowed in workflow.TRANSITIONS.items():
        for action in rules.legal_actions(status):
            assert action.from_status == status and action.to_status in allowed
    assert [a.name for a in rules.legal_actions("accepted")] == []  # the worker's move, not the reviewer's
    assert [a.name for a in rules.legal_actions("needs_supplement")] == []  # the applicant's upload moves it
