"""The at-rest scan: one invented applicant's ID card goes through the real API, Redis (db 7) and
a worker; then every file under the data dir, the whole database (SQLite file bytes, or every
PostgreSQL row as text) and every Redis value are searched for the person's ID number, name and
address (UTF-8 and UTF-16) and for any 127-byte run of the uploaded file or the stored page
image. Nothing may be found. The same run with the identity cipher must find them all, so the
scan is shown able to fail."""

from __future__ import annotations

import hashlib
import os
import random
import zlib
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from sqlalchemy import inspect, text

from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.samplegen.bundle import application_bundle
from loandocs.samplegen.identity import random_identity
from loandocs.services import Services, set_services
from loandocs.store import crypto
from loandocs.worker.runner import run_worker

from .helpers import pg_schema, staff_token

# Real OCR, then a scan of every stored byte, on both databases: make test runs it, make test-fast not
# (tests/test_crypto.py covers the encryption itself there).
pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("LOANDOCS_TEST_REDIS_URL_AT_REST", "redis://127.0.0.1:6379/7")
SEED = 3
CHUNK = 64


def _identity(seed: int):
    # The person application_bundle draws first from its seeded generator (samplegen/bundle.py);
    # the test checks below that the API read back exactly this person.
    digest = hashlib.sha256(f"bundle:{seed}:valid".encode()).digest()
    return random_identity(random.Random(digest[:16]), birth_years=(1970, 1995), validity="valid")


# -- the scan -------------------------------------------------------------------------------

class Needles:
    """Short strings found with bytes.find; file contents as 64-byte chunks (every run of 127
    bytes or more of a file holds one whole chunk), matched at every offset of a haystack
    through their first 8 bytes in numpy, then compared in full."""

    def __init__(self) -> None:
        self.strings: dict[str, list[bytes]] = {}
        self.chunks: dict[int, list[tuple[str, bytes]]] = {}

    def add_text(self, label: str, value: str) -> None:
        self.strings[label] = [value.encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be")]

    def add_file(self, label: str, data: bytes) -> None:
        for i in range(0, len(data) - CHUNK + 1, CHUNK):
            chunk = data[i:i + CHUNK]
            if len(set(chunk)) < 16:  # runs of padding prove nothing and match zero-filled pages
                continue
            for form in (chunk, chunk.hex().encode()):  # raw, and as PostgreSQL prints bytea
                self.chunks.setdefault(int.from_bytes(form[:8], "little"), []).append((label, form))

    def find(self, hay: bytes) -> set[str]:
        found = {label for label, forms in self.strings.items() if any(f in hay for f in forms)}
        if len(hay) < 8 or not self.chunks:
            return found
        wanted = np.fromiter(self.chunks, dtype=np.uint64)
        for offset in range(8):
            n = (len(hay) - offset) // 8
            if n <= 0:
                continue
            words = np.frombuffer(hay, dtype="<u8", count=n, offset=offset)
            for idx in np.nonzero(np.isin(words, wanted))[0]:
                pos = offset + 8 * int(idx)
                for label, form in self.chunks[int(words[idx])]:
                    if hay[pos:pos + len(form)] == form:
                        found.add(label)
        return found


def _redis_values(r: Redis) -> list[bytes]:
    out: list[bytes] = []
    for key in r.scan_iter(count=500):
        kind = r.type(key).decode()
        if kind == "string":
            values = [r.get(key) or b""]
        elif kind == "hash":
            values = list(r.hgetall(key).values())
        elif kind == "list":
            values = r.lrange(key, 0, -1)
        elif kind == "set":
            values = list(r.smembers(key))
        elif kind == "zset":
            values = r.zrange(key, 0, -1)
        elif kind == "stream":
            values = [v for _, fields in r.xrange(key) for v in fields.values()]
        else:
            values = []
        for v in [key, *values]:
            out.append(v)
            try:  # rq keeps job data zlib-compressed
                out.append(zlib.decompress(v))
            except zlib.error:
                pass
    return out


def scan(svc: Services, needles: Needles, redis: Redis) -> tuple[dict[str, set[str]], list[str]]:
    """(label -> where it was found, every place scanned): "file:<path under the data dir>",
    "db:<table>" (PostgreSQL), "redis"."""
    where: dict[str, set[str]] = {}
    sources: list[str] = []

    def note(source: str, hay: bytes) -> None:
        sources.append(source)
        for label in needles.find(hay):
            where.setdefault(label, set()).add(source)

    root = svc.settings.data_dir
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        note(f"file:{path.relative_to(root)}", path.read_bytes())
    if svc.engine.dialect.name == "postgresql":
        with svc.engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars().all()
                note(f"db:{table}", "\n".join(rows).encode("utf-8"))
    for value in _redis_values(redis):
        note("redis", value)
    return where, sources


# -- the run --------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


def _run(backend: str, tmp_path: Path, plaintext: bool) -> tuple[dict[str, set[str]], list[str]]:
    """One application through API + worker, then ``scan``."""
    person = _identity(SEED)
    front = application_bundle(tmp_path / "bundle", seed=SEED)[0]
    upload = front.read_bytes()
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    saved = crypto.installed_keyring()
    with ExitStack() as stack:
        database_url = stack.enter_context(pg_schema("atrest")) if backend == "postgresql" else None
        svc = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL, database_url=database_url))
        if plaintext:
            svc.keyring = crypto.IdentityCipher()  # the control run: nothing encrypted
        set_services(svc)
        try:
            with TestClient(create_app(svc)) as client:
                page = _apply(client, svc, person, upload)
            # Scanned with the engine still open, so SQLite's write-ahead log is scanned as well.
            needles = Needles()
            needles.add_text("id_number", person.id_number)
            needles.add_text("name", person.name)
            needles.add_text("address", person.address)
            needles.add_file("upload", upload)
            needles.add_file("page_image", page)
            return scan(svc, needles, redis)
        finally:
            svc.engine.dispose()
            set_services(None)
            crypto.install_keyring(saved)
            redis.flushdb()
            redis.close()


def _apply(client: TestClient, svc: Services, person, upload: bytes) -> bytes:
    """Create, consent, upload, process, read back, correct a field; returns the page image."""
    created = client.post("/v1/applications", json={
        "applicant_name": person.name, "loan_type": "personal_consumer", "amount": 80000,
        "term_months": 24, "purpose": "装修", "application_date": "2026-11-29",
        "consent": {"agreed": True, "version": "2026-11"}})
    assert created.status_code == 201, created.text
    app = created.json()
    applicant = {"Authorization": f"Bearer {app['applicant_token']}"}
    # The file name carries the person's name, as uploads from phones often do.
    up = client.post(f"/v1/applications/{app['id']}/documents", headers=applicant,
                     files={"file": (f"{person.name}身份证.jpg", upload, "image/jpeg")})
    assert up.status_code == 202, up.text
    doc_id = up.json()["document_id"]
    assert run_worker(svc, burst=True) == 1

    # The data is there and readable through the API, so a clean scan means encrypted, not absent.
    reviewer = {"Authorization": f"Bearer {staff_token(svc)}"}
    doc = client.get(f"/v1/documents/{doc_id}", headers=reviewer).json()
    fields = {k: v["value"] for k, v in doc["documents"][0]["fields"].items()}
    assert (fields["id_number"], fields["name"]) == (person.id_number, person.name), fields
    page = client.get(f"/v1/documents/{doc_id}/pages/0/1.jpg", headers=reviewer)
    assert page.status_code == 200 and page.content[:2] == b"\xff\xd8"
    fix = client.post(f"/v1/documents/{doc_id}/corrections", headers=reviewer, json={
        "field": "address", "value": person.address, "reason": f"{person.name} 地址核对"})
    assert fix.status_code == 201, fix.text
    return page.content


def test_nothing_personal_is_stored_in_clear(backend, tmp_path):
    found, scanned = _run(backend, tmp_path, plaintext=False)
    # The scan saw every place the data lives: the upload and its page image, the database
    # (with SQLite's write-ahead log), Redis (rq's job hashes), and the key file.
    assert sum(p.startswith("file:documents/") for p in scanned) == 2, scanned
    assert "file:keys/loandocs.keys" in scanned and scanned.count("redis") > 5, scanned
    if backend == "sqlite":
        assert {"file:loandocs.db", "file:loandocs.db-wal"} <= set(scanned), scanned
    else:
        assert {"db:applications", "db:documents", "db:extractions", "db:field_corrections"} <= set(scanned)
    assert found == {}


def test_the_scan_finds_plaintext_when_nothing_encrypts(backend, tmp_path):
    found, _ = _run(backend, tmp_path, plaintext=True)
    db = "file:loandocs.db" if backend == "sqlite" else "db:extractions"  # SQLite: file or its WAL
    assert any(w.startswith(db) for w in found.get("id_number", ())), found
    assert any(w.startswith(db) for w in found.get("address", ())), found
    assert found.get("name") and found.get("upload") and found.get("page_image"), found
    assert any(w.startswith("file:documents/") for w in found["upload"]), found


def test_the_scanner_finds_a_127_byte_run_at_any_offset():
    data = os.urandom(4096)
    needles = Needles()
    needles.add_file("upload", data)
    needles.add_text("id_number", "11010819850307231X")
    filler = os.urandom(10_000)
    for offset in (0, 1, 7, 13):
        for start in (0, 5, 63, 3000):
            run = data[start:start + 127]
            assert needles.find(filler[:offset] + run + filler) == {"upload"}, (offset, start)
    assert needles.find(filler + data[64:64 + CHUNK].hex().encode()) == {"upload"}  # bytea text
    assert needles.find(filler + data[1:126]) == set()  # shorter than two chunks: not guaranteed
    assert needles.find(filler + "11010819850307231X".encode("utf-16-le")) == {"id_number"}
