"""A reviewer overrules a machine check: audited, in the history, kept through re-processing,
and the application moves on (issue 16, item 7)."""

from __future__ import annotations

from loandocs import workflow
from loandocs.store import repository as repo

from . import test_review_api as review_api
from .test_review_api import _audit, _error, _f, add_file, certificate, materials, seed_application

world = review_api.world  # the reviewer API's fixture: services, a client, reviewer and admin headers


def _unsealed():
    doc = certificate()
    return doc.model_copy(update={"fields": {**doc.fields, "has_seal": _f(False, confidence=0.9)}})


def test_a_reviewer_waives_a_false_check_and_the_application_moves_on(world):
    services, client, h = world
    files = materials()
    files[2] = [_unsealed()]  # the machine missed the seal: seal_missing sends the applicant back
    app = seed_application(services, files)
    assert app["status"] == "needs_supplement"
    cert_doc = app["docs"][2]

    actions = client.get(f"/v1/applications/{app['id']}/actions", headers=h["reviewer"]).json()
    assert {"document_id": cert_doc, "part": 0, "doc_type": "income_certificate", "code": "seal_missing"} in actions["waivable"]
    assert actions["actions"] == []  # no status move is the reviewer's here: waiving is

    # Only a check that fails on that document can be waived.
    r = client.post(f"/v1/documents/{cert_doc}/waivers", headers=h["reviewer"], json={"code": "certificate_stale", "reason": "x"})
    _error(r, 409, "check_not_failing")
    r = client.post(f"/v1/documents/{cert_doc}/waivers", headers=h["admin"], json={"code": "seal_missing", "reason": "x"})
    assert r.status_code == 403

    r = client.post(f"/v1/documents/{cert_doc}/waivers", headers=h["reviewer"],
                    json={"code": "seal_missing", "reason": "公章在原件右下角，复印件颜色较浅"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "collected" and body["supplement"] == [] and body["completeness"] == 100, body
    assert body["waiver"]["code"] == "seal_missing" and body["waiver"]["waived_by"] == "李审核"

    view = client.get(f"/v1/applications/{app['id']}", headers=h["reviewer"]).json()
    assert view["status"] == "collected"
    cert = next(d for d in view["documents"] if d["id"] == cert_doc)
    seal = next(c for c in cert["checks"] if c["code"] == "seal_missing")
    assert seal["ok"] is True and seal["waived_by"] == "李审核" and "公章" in seal["waived_reason"]
    reasons = [e["reason"] for e in view["history"]]
    assert any("waived seal_missing" in r for r in reasons), reasons
    assert [e.detail["code"] for e in _audit(services, "waive")] == ["seal_missing"]
    waivers = client.get(f"/v1/documents/{cert_doc}/waivers", headers=h["reviewer"]).json()
    assert [w["code"] for w in waivers] == ["seal_missing"]

    # Re-processing writes a new extraction of the same document: the waiver still holds.
    with services.sessions.begin() as s:
        repo.add_extraction(s, cert_doc, [_unsealed()], extractor_version="test-2")
        a = workflow.assess_application(s, repo.get_application(s, app["id"]))
    assert a is not None and a.status == "collected"
    assert "seal_missing" not in a.failed_codes[2]

    # A new upload of the material is a new document, judged afresh.
    with services.sessions.begin() as s:
        add_file(services, s, app["id"], [_unsealed()], "again")
        a = workflow.assess_application(s, repo.get_application(s, app["id"]))
    assert "seal_missing" in a.failed_codes[-1]


def test_the_review_page_offers_the_waiver_and_shows_it(world):
    services, client, h = world
    files = materials()
    files[2] = [_unsealed()]
    app = seed_application(services, files)
    cert_doc = app["docs"][2]
    page = client.get(f"/review/applications/{app['id']}", headers=h["reviewer"])
    assert page.status_code == 200, page.text[:300]
    form = f'<form class="waive stack" id="waive-{cert_doc}-0-seal_missing" hidden data-doc="{cert_doc}" data-part="0" data-code="seal_missing">'
    assert form in page.text
    assert f'<label for="r-waive-{cert_doc}-0-seal_missing">' in page.text  # every control has its label

    r = client.post(f"/v1/documents/{cert_doc}/waivers", headers=h["reviewer"], json={"code": "seal_missing", "reason": "原件有章"})
    assert r.status_code == 201, r.text
    page = client.get(f"/review/applications/{app['id']}", headers=h["reviewer"]).text
    assert form not in page
    assert "已豁免" in page and "李审核：原件有章" in page
