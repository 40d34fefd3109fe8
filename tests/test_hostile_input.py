"""Hostile input through the real API and a real worker: every bad upload gets its 4xx and
stable code, nothing is stored for it, names are made safe, multipart and header abuse is
refused, rate limits answer 429 and recover, and a worker given hostile files (as if an older
API had let them in) fails each one with its code and goes on. Redis db 8, SQLite in tmp_path.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq import Queue

from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.errors import InputError
from loandocs.extractor.loading import check_file
from loandocs.extractor.options import Limits
from loandocs.services import Services
from loandocs.store import repository as repo
from loandocs.worker.queue import DEFAULT_QUEUE

from .helpers import flushed_redis
from .hostile import hostile, noise_jpeg, one_page, pdf, stream

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_HOSTILE_REDIS_URL", "redis://127.0.0.1:6379/8")
INCOME = ROOT / "samples/financial/income_pdf_001.pdf"
NEW_APP = {"applicant_name": "张伟", "loan_type": "personal_consumer", "amount": "150000", "term_months": 36,
           "purpose": "装修", "application_date": "2026-11-29", "consent": {"agreed": True, "version": "2026-01"}}
NO_LIMITS = {"rate_limit_upload": 0, "rate_limit_status": 0, "rate_limit_application": 0, "rate_limit_login": 0}




class Api:
    def __init__(self, data_dir: Path, client_addr: tuple[str, int] = ("203.0.113.7", 50000), **settings):
        self.services = Services(Settings(data_dir=data_dir, redis_url=REDIS_URL, **{**NO_LIMITS, **settings}))
        self.app = create_app(self.services)
        self.client = TestClient(self.app, raise_server_exceptions=False, client=client_addr)

    def create(self) -> dict:
        r = self.client.post("/v1/applications", json=NEW_APP)
        assert r.status_code == 201, r.text
        return r.json()

    def upload(self, app: dict, name: str, data: bytes, content_type: str = "application/octet-stream"):
        return self.client.post(f"/v1/applications/{app['id']}/documents", files={"file": (name, data, content_type)},
                                headers={"Authorization": f"Bearer {app['applicant_token']}"})

    def documents(self, app: dict) -> list[repo.DocumentRecord]:
        with self.services.sessions() as s:
            return repo.list_documents(s, app["id"])

    def close(self) -> None:
        self.client.close()
        self.services.engine.dispose()


@pytest.fixture(scope="module")
def module_api(tmp_path_factory):
    with flushed_redis(REDIS_URL):
        api = Api(tmp_path_factory.mktemp("hostile"))
        yield api
        api.close()


@pytest.fixture
def redis_db():
    with flushed_redis(REDIS_URL) as r:
        yield r


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"], body
    return body["error"]


@pytest.mark.parametrize("name", sorted(hostile()))
def test_hostile_upload_is_refused_with_its_code(module_api, name):
    data, code = hostile()[name]
    app = module_api.create()
    r = module_api.upload(app, f"{name}.jpg", data, "image/jpeg")  # the declared type is a lie too
    _error(r, 415 if code == "unsupported_type" else 422, code)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert module_api.documents(app) == []  # nothing stored, nothing queued
    assert Queue(DEFAULT_QUEUE, connection=module_api.services.redis).count == 0


@pytest.mark.parametrize(("sent", "stored"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\身份证.jpg", "身份证.jpg"),
    ("a\x00b.jpg", "ab.jpg"),
    ("\u202egpj.exe", "gpj.exe"),  # right-to-left override: would read as "exe.jpg"
    ("x" * 1000 + ".jpg", "x" * 251 + ".jpg"),
    ("..", "upload"),
    ("CON.jpg", "_CON.jpg"),
])
def test_file_names_are_made_safe_before_storing(module_api, sent, stored):
    app = module_api.create()
    # Raw multipart: an HTTP client library would percent-encode the NUL and quotes.
    disposition = f'form-data; name="file"; filename="{sent}"'
    body, headers = _multipart([([("Content-Disposition", disposition), ("Content-Type", "text/html")], noise_jpeg())])
    r = module_api.client.post(f"/v1/applications/{app['id']}/documents", content=body,
                               headers={**headers, "Authorization": f"Bearer {app['applicant_token']}"})
    assert r.status_code == 202, r.text
    (doc,) = module_api.documents(app)
    assert doc.filename == stored
    assert doc.content_type == "image/jpeg"  # what the bytes are, not what the client declared
    shown = module_api.client.get(f"/v1/applications/{app['id']}",
                                  headers={"Authorization": f"Bearer {app['applicant_token']}"}).json()
    assert [d["filename"] for d in shown["documents"]] == [stored]


def _multipart(parts: list[tuple[list[tuple[str, str]], bytes]], boundary: str = "XyZ") -> tuple[bytes, dict]:
    body = b""
    for headers, content in parts:
        body += f"--{boundary}\r\n".encode()
        body += b"".join(f"{k}: {v}\r\n".encode("utf-8", "surrogatepass") for k, v in headers) + b"\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


def _file_part(name: str = "file", extra: list[tuple[str, str]] = ()) -> tuple[list[tuple[str, str]], bytes]:
    return [("Content-Disposition", f'form-data; name="{name}"; filename="a.jpg"'), ("Content-Type", "image/jpeg"),
            *extra], noise_jpeg()


@pytest.mark.parametrize(("case", "code"), [
    ("two_files", "too_many_parts"),
    ("many_fields", "too_many_parts"),
    ("long_part_header", "invalid_multipart"),
    ("many_part_headers", "invalid_multipart"),
    ("big_text_field", "field_too_large"),
    ("no_boundary", "invalid_multipart"),
])
def test_multipart_abuse_is_refused(module_api, case, code):
    app = module_api.create()
    field = lambda n, v=b"x": ([("Content-Disposition", f'form-data; name="f{n}"')], v)  # noqa: E731
    parts = {
        "two_files": [_file_part(), _file_part("file2")],
        "many_fields": [_file_part()] + [field(i) for i in range(40)],
        "long_part_header": [_file_part(extra=[("X-Pad", "a" * 8192)])],
        "many_part_headers": [_file_part(extra=[(f"X-H{i}", "1") for i in range(20)])],
        "big_text_field": [_file_part(), field(0, b"a" * 100_000)],
        "no_boundary": [_file_part()],
    }[case]
    body, headers = _multipart(parts)
    if case == "no_boundary":
        headers = {"content-type": "multipart/form-data"}
    headers["Authorization"] = f"Bearer {app['applicant_token']}"
    r = module_api.client.post(f"/v1/applications/{app['id']}/documents", content=body, headers=headers)
    _error(r, 400, code)
    assert module_api.documents(app) == []


def test_huge_request_headers_are_refused(module_api):
    _error(module_api.client.get("/healthz", headers={"X-Big": "a" * 20_000}), 431, "headers_too_large")
    _error(module_api.client.get("/healthz", headers={f"X-H{i}": "1" for i in range(150)}), 431, "headers_too_large")
    r = module_api.client.get("/healthz", headers={"X-Ok": "a" * 1000})
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"


# ------------------------------------------------------------------------ the PDF scan itself


def _scan_code(data: bytes, **limits) -> str | None:
    try:
        check_file(data, Limits(**limits))
    except InputError as exc:
        return exc.code
    return None


def _form(body: bytes, names: dict[str, int] | None = None) -> bytes:
    xobjects = b" ".join(b"/%s %d 0 R" % (k.encode(), v) for k, v in (names or {}).items())
    return stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << %s >> >>" % xobjects, body)


def test_pdf_scan_accepts_legitimate_nesting_and_refuses_cycles():
    image = stream(b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8",
                   b"\x00\x10\x20\x30")
    nested = one_page(stream(b"", b"/F Do"), [_form(b"/G Do /G Do", {"G": 6}), _form(b"/I Do", {"I": 7}), image],
                      b"<< /XObject << /F 5 0 R >> >>")
    assert _scan_code(nested) is None
    cycle = one_page(stream(b"", b"/F Do"), [_form(b"/G Do", {"G": 6}), _form(b"/F Do", {"F": 5})],
                     b"<< /XObject << /F 5 0 R >> >>")
    assert _scan_code(cycle) == "too_complex"


def test_pdf_scan_counts_a_page_with_the_forms_it_draws():
    big = _form(b"0 0 m 1 1 l S\n" * 500)  # 7 KB of operators
    once = one_page(stream(b"", b"/F Do"), [big], b"<< /XObject << /F 5 0 R >> >>")
    twice = one_page(stream(b"", b"/F Do /F Do"), [big], b"<< /XObject << /F 5 0 R >> >>")
    assert _scan_code(once, max_pdf_page_content_bytes=10_000) is None
    assert _scan_code(twice, max_pdf_page_content_bytes=10_000) == "too_complex"
    # Resources inherited from the page tree resolve too.
    inherited = pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                     b"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /XObject << /F 5 0 R >> >> >>",
                     b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
                     stream(b"", b"/F Do /F Do"), big])
    assert _scan_code(inherited, max_pdf_page_content_bytes=10_000) == "too_complex"


def test_pdf_scan_limits_all_pages_together():
    def pages(n: int) -> bytes:
        kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n))
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)]
        for i in range(n):
            objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents %d 0 R >>" % (4 + 2 * i),
                     stream(b"", b"0 0 m 1 1 l S\n" * 300)]  # 4.2 KB each
        return pdf(objs)

    assert _scan_code(pages(2), max_pdf_content_bytes=10_000) is None
    assert _scan_code(pages(3), max_pdf_content_bytes=10_000) == "too_complex"


def test_pdf_scan_follows_filter_chains_and_object_streams():
    import base64
    import zlib

    bomb = base64.a85encode(zlib.compress(b"0 0 m 1 1 l S\n" * 200_000, 9), adobe=True)  # 2.8 MB inflated
    chained = one_page(stream(b"/Filter [/ASCII85Decode /FlateDecode]", bomb))
    assert _scan_code(chained) == "too_complex"
    members = b" ".join(b"%d %d" % (10 + i, 5 * i) for i in range(80))
    objstm = stream(b"/Type /ObjStm /N 80 /First %d /Filter /FlateDecode" % (len(members) + 1),
                    zlib.compress(members + b" " + b"null " * 80))
    assert _scan_code(one_page(stream(b"", b""), [objstm]), max_pdf_objects=50) == "too_many_objects"
    assert _scan_code(one_page(stream(b"", b""), [objstm]), max_pdf_objects=200) is None


def test_pdf_scan_trusts_a_plausible_size_only():
    sample = INCOME.read_bytes()
    end = sample.rfind(b"/Size")
    lie = sample[:end] + sample[end:].replace(b"/Size", b"/Size 2147483647 /X", 1)
    assert _scan_code(lie) is None  # larger than the file: a damaged number, repaired by PDFium
    assert _scan_code(sample.replace(b"/Size", b"/Size 60000 /X", 1), max_pdf_objects=50_000) == "too_many_objects"


# ------------------------------------------------------------------------------ rate limits


def _start_of_window(window_s: int) -> None:
    # Fixed windows: start right after a boundary so a short burst stays inside one window.
    time.sleep(window_s - time.time() % window_s + 0.02)


def test_status_lookup_rate_limit_then_recovery(tmp_path, redis_db):
    api = Api(tmp_path, rate_limit_status=3, rate_limit_window_s=2)
    try:
        app = api.create()
        url = f"/v1/status/{app['application_no']}"
        _start_of_window(2)
        assert [api.client.get(url).status_code for _ in range(3)] == [200, 200, 200]
        r = api.client.get(url)
        err = _error(r, 429, "rate_limited")
        wait = int(r.headers["retry-after"])
        assert 1 <= wait <= 2 and "status" in err["message"]
        # Another bucket and another client are not affected.
        assert api.client.post("/v1/applications", json=NEW_APP).status_code == 201
        other = TestClient(api.app, client=("198.51.100.9", 50000))
        assert other.get(url).status_code == 200
        time.sleep(wait)
        assert api.client.get(url).status_code == 200  # the next window
    finally:
        api.close()


def test_upload_rate_limit_refuses_before_storing(tmp_path, redis_db):
    api = Api(tmp_path, rate_limit_upload=2, rate_limit_window_s=60)
    try:
        app = api.create()
        assert [api.upload(app, "a.jpg", noise_jpeg()).status_code for _ in range(2)] == [202, 202]
        r = api.upload(app, "a.jpg", noise_jpeg())
        _error(r, 429, "rate_limited")
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert len(api.documents(app)) == 2
    finally:
        api.close()


def test_application_creation_rate_limit(tmp_path, redis_db):
    api = Api(tmp_path, rate_limit_application=2, rate_limit_window_s=60)
    try:
        assert [api.client.post("/v1/applications", json=NEW_APP).status_code for _ in range(3)] == [201, 201, 429]
        assert api.client.get("/healthz").status_code == 200  # unlimited routes still answer
    finally:
        api.close()


def test_rate_limit_fails_open_when_redis_is_down(tmp_path, redis_db, caplog):
    api = Api(tmp_path, rate_limit_upload=1, rate_limit_application=1, rate_limit_window_s=60)
    # Nothing listens there; no client retries, so the test measures the limiter, not redis-py.
    api.services.__dict__["redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1, retry=None)
    try:
        with caplog.at_level(logging.WARNING, logger="loandocs.api.ratelimit"):
            apps = [api.create() for _ in range(2)]
            r = [api.upload(apps[0], "a.jpg", noise_jpeg()) for _ in range(2)]
        assert [x.status_code for x in r] == [202, 202]
        assert {x.json()["status"] for x in r} == {"received"}  # left for the sweeper to enqueue
        warnings = [rec for rec in caplog.records if "rate limiting is off" in rec.getMessage()]
        assert len(warnings) == 1  # once per outage: Redis is not asked again for a while
    finally:
        api.close()


# ------------------------------------------------------------------------------- the worker


def test_worker_survives_a_batch_of_hostile_files(tmp_path, redis_db):
    """Hostile files stored directly (as if an older API had accepted them), then one good file:
    a burst worker fails each with its code and extracts the good one. Without the PDF scan,
    ``pdf_form_draws_itself`` alone would hold the worker in PDFium for good."""
    from loandocs.worker import enqueue_document
    from loandocs.worker.runner import run_worker

    svc = Services(Settings(data_dir=tmp_path, redis_url=REDIS_URL))
    cases = hostile()
    files = [(name, data) for name, (data, _) in cases.items()] + [("good.pdf", INCOME.read_bytes())]
    with svc.sessions.begin() as s:
        app = repo.create_application(s, applicant_name="张伟", loan_type="personal_consumer", amount="100000",
                                      term_months=24, purpose="装修", application_date=None)
        repo.record_consent(s, app.id, text_version="v1", channel="test")
        ids = {}
        for name, data in files:
            key = svc.files.put(data)
            ids[name] = repo.add_document(s, app.id, filename=name, content_type=None, size=len(data),
                                          sha256=key, storage_key=key).id
    for doc_id in ids.values():
        enqueue_document(svc.redis, doc_id)
    t0 = time.monotonic()
    try:
        run_worker(svc, burst=True, warm=False)
        elapsed = time.monotonic() - t0
        with svc.sessions() as s:
            docs = {d.filename: d for d in repo.list_documents(s, app.id)}
        got = {name: (docs[name].status, docs[name].error_code) for name in cases}
        assert got == {name: ("failed", code) for name, (_, code) in cases.items()}
        assert docs["good.pdf"].status == "extracted"
        assert Queue(DEFAULT_QUEUE, connection=svc.redis).failed_job_registry.count == 0  # finished jobs, no crash
        assert elapsed < 60, elapsed
    finally:
        from loandocs.services import set_services

        set_services(None)
        svc.engine.dispose()
