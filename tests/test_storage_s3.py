"""The document store over S3-compatible object storage, against a real S3 server (SeaweedFS
``weed mini``, started by the session fixture ``s3_server``): encryption before bytes leave the
process, content addressing, stable error codes, erasure, key rotation, and an outage in the
middle of an upload. Redis db 5 (``LOANDOCS_TEST_S3_REDIS_URL``), SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from loandocs.api import create_app
from loandocs.config import Settings
from loandocs.services import Services, set_services
from loandocs.store import DocumentStore, crypto, erasure, rekey
from loandocs.store import repository as repo
from loandocs.store.crypto import MAGIC
from loandocs.store.objects import S3Backend, StorageError, StorageUnavailable, backend_for
from loandocs.store.tables import Document

from .helpers import flushed_redis
from .s3server import BUCKET, CutProxy, free_ports

pytestmark = pytest.mark.distributed

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("LOANDOCS_TEST_S3_REDIS_URL", "redis://127.0.0.1:6379/5")
JPEG = ROOT / "samples/idcards/front_scan_002.jpg"
SECRET = "张三丰 110105194912310021"


def _store(s3_server, prefix: str, cipher=None, **overrides) -> DocumentStore:
    settings = Settings(**{**s3_server.settings(prefix), **overrides})
    return DocumentStore(cipher=cipher or crypto.Keyring.generate(), backend=backend_for(settings))


def test_objects_are_encrypted_content_addressed_and_read_back(s3_server):
    prefix = s3_server.new_prefix()
    store = _store(s3_server, prefix)
    data = SECRET.encode() * 50
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.put(data) == key  # the same upload again: one object
    stored = s3_server.objects(prefix)
    assert list(stored) == [f"{prefix}/{key[:2]}/{key[2:4]}/{key}"]
    raw = stored[f"{prefix}/{key[:2]}/{key[2:4]}/{key}"]
    assert raw.startswith(MAGIC) and SECRET.encode() not in raw and "张三丰".encode("utf-16-le") not in raw
    assert store.get(key) == data
    assert list(store.keys()) == [key] and store.exists(key)
    assert store.key_id_of(key) == store.cipher.primary_id
    store.delete(key)
    assert not store.exists(key) and s3_server.objects(prefix) == {}
    store.delete(key)  # deleting twice is fine


def test_missing_corrupt_and_misplaced_objects_give_stable_codes(s3_server):
    prefix = s3_server.new_prefix()
    store = _store(s3_server, prefix)
    with pytest.raises(StorageError) as e:
        store.get("0" * 64)
    assert e.value.code == "stored_file_missing" and e.value.http_status == 500
    with pytest.raises(StorageError) as e:
        store.get("../../etc/passwd")
    assert e.value.code == "invalid_storage_key"
    a, b = store.put(b"document a" * 10), store.put(b"document b" * 10)
    client = s3_server.client()
    name = f"{prefix}/{b[:2]}/{b[2:4]}/{b}"
    client.put_object(Bucket=BUCKET, Key=name, Body=s3_server.objects(prefix)[f"{prefix}/{a[:2]}/{a[2:4]}/{a}"])
    with pytest.raises(Exception) as e:  # a's ciphertext under b's name: the associated data differs
        store.get(b)
    assert getattr(e.value, "code", None) == "decryption_failed"
    client.put_object(Bucket=BUCKET, Key=name, Body=b"not what was stored")
    with pytest.raises(Exception) as e:
        store.get(b)
    assert getattr(e.value, "code", None) in ("decryption_failed", "stored_file_corrupt")


def test_unreachable_store_wrong_credentials_and_missing_bucket(s3_server):
    (port,) = free_ports(1)  # nothing listens there
    down = _store(s3_server, "x", s3_endpoint_url=f"http://127.0.0.1:{port}", s3_connect_timeout_s=0.5)
    with pytest.raises(StorageUnavailable) as e:
        down.put(b"anything")
    assert (e.value.code, e.value.http_status) == ("storage_unavailable", 503)
    with pytest.raises(StorageUnavailable):
        down.get("a" * 64)
    wrong = _store(s3_server, "x", s3_secret_access_key="not-the-secret")
    with pytest.raises(StorageError) as e:
        wrong.put(b"anything")
    assert e.value.code == "storage_access_denied"
    # (SeaweedFS creates a missing bucket on the first PUT by its admin identity, so only a read
    # can meet a missing bucket here.)
    nobucket = _store(s3_server, "x", storage_url="s3://no-such-bucket-here/x")
    with pytest.raises(StorageError) as e:
        nobucket.get("a" * 64)
    assert e.value.code == "storage_bucket_missing"


def _services(tmp_path, s3_server, prefix: str, database_url: str | None = None, **extra) -> Services:
    return Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL, database_url=database_url,
                             **s3_server.settings(prefix), **extra))


def test_erase_and_retention_remove_the_objects(s3_server, tmp_path, database_url):
    prefix = s3_server.new_prefix()
    svc = _services(tmp_path, s3_server, prefix, database_url)
    try:
        with svc.sessions.begin() as s:
            ids, keys = [], {}
            for n in range(2):
                app = repo.create_application(s, applicant_name=f"申请人{n}", loan_type="personal_consumer",
                                              amount="1000", term_months=6, application_date=dt.date(2026, 11, 29))
                repo.record_consent(s, app.id, text_version="v1", channel="api")
                upload, page = f"upload {n}".encode() * 20, f"page image {n}".encode() * 20
                key, page_key = svc.files.put(upload), svc.files.put(page)
                doc = repo.add_document(s, app.id, filename=f"f{n}.jpg", content_type="image/jpeg", size=len(upload),
                                        sha256=key, storage_key=key)
                repo.add_extraction(s, doc.id, [{"file": "f.jpg", "doc_type": "id_card_front", "pages": [1],
                                                 "page_images": [page_key]}], "test")
                ids.append(app.id)
                keys[app.id] = {key, page_key}
            # A third application uploaded the same file as the first: that object must stay.
            shared = repo.create_application(s, applicant_name="他人", loan_type="personal_consumer", amount="1",
                                             term_months=1)
            repo.record_consent(s, shared.id, text_version="v1", channel="api")
            first = sorted(keys[ids[0]])
            upload0 = next(k for k in first if svc.files.get(k).startswith(b"upload"))
            repo.add_document(s, shared.id, filename="same.jpg", content_type=None, size=1, sha256=upload0,
                              storage_key=upload0)
        assert len(s3_server.objects(prefix)) == 4

        with svc.sessions.begin() as s:
            gone = erasure.erase_application(s, ids[1], actor="admin", role="admin", reason="request")
        assert erasure.remove_files(svc.files, gone.file_keys) == 2
        left = {name.rsplit("/", 1)[1] for name in s3_server.objects(prefix)}
        assert left == keys[ids[0]]

        # Retention runs the same erase. The first application's upload is also the third's, so
        # its objects (the upload and the page images made from it) stay for that one.
        with svc.sessions.begin() as s:
            gone = erasure.erase_application(s, ids[0], actor="retention", role="system", reason="expired")
        assert gone.file_keys == () and erasure.remove_files(svc.files, gone.file_keys) == 0
        assert {name.rsplit("/", 1)[1] for name in s3_server.objects(prefix)} == keys[ids[0]]
        with svc.sessions.begin() as s:
            gone = erasure.erase_application(s, shared.id, actor="retention", role="system", reason="expired")
        assert erasure.remove_files(svc.files, gone.file_keys) == 1
        assert {name.rsplit("/", 1)[1] for name in s3_server.objects(prefix)} == keys[ids[0]] - {upload0}
    finally:
        svc.engine.dispose()


def test_key_rotation_over_s3(s3_server, tmp_path, database_url):
    prefix = s3_server.new_prefix()
    key_file = tmp_path / "keys" / "loandocs.keys"
    svc = _services(tmp_path, s3_server, prefix, database_url, encryption_key_file=key_file)
    try:
        ring = svc.keyring
        blobs = {}
        for n in range(6):
            data = os.urandom(2000 + n)
            blobs[svc.files.put(data)] = data
        # One object written in clear by a version before encryption at rest.
        legacy = b"%PDF-1.4 legacy in clear"
        legacy_key = hashlib.sha256(legacy).hexdigest()
        s3_server.client().put_object(Bucket=BUCKET, Key=f"{prefix}/{legacy_key[:2]}/{legacy_key[2:4]}/{legacy_key}",
                                      Body=legacy)
        blobs[legacy_key] = legacy
        old = ring.primary_id
        before = rekey.inventory(svc.engine, svc.files)
        assert before.files == {old: 6, rekey.PLAINTEXT: 1}

        result = rekey.rotate(svc.engine, svc.files, ring, pause=0.1)
        new = ring.primary_id
        assert new != old and result.files == 7
        after = rekey.inventory(svc.engine, svc.files)
        assert after.files == {new: 7} and after.outside(new) == 0
        for name, raw in s3_server.objects(prefix).items():
            assert raw.startswith(MAGIC + new.encode()), name
        # Another process with the new key file alone reads every object.
        rekey.retire(svc.engine, svc.files, ring, old)
        fresh = DocumentStore(cipher=crypto.load_keyring(None, key_file), backend=svc.files.backend)
        assert {k: fresh.get(k) for k in blobs} == blobs

        # A conditional replace loses to a concurrent change and never revives an erased object.
        backend = svc.files.backend
        assert isinstance(backend, S3Backend)
        k1, k2 = list(blobs)[:2]
        raw, version = backend.read(k1)
        rewritten = ring.encrypt(blobs[k1], b"file:" + k1.encode())  # a fresh nonce: other bytes
        backend.write(k1, rewritten)
        assert backend.replace(k1, b"stale", if_version=version) is False
        assert backend.read(k1)[0] == rewritten
        _, version = backend.read(k2)
        svc.files.delete(k2)
        assert backend.replace(k2, b"stale", if_version=version) is False
        assert not backend.exists(k2)
    finally:
        svc.engine.dispose()


def test_outage_mid_upload_answers_503_stores_nothing_and_a_retry_succeeds(s3_server, tmp_path):
    prefix = s3_server.new_prefix()
    proxy = CutProxy(s3_server.port, cut_after=4096)
    data = JPEG.read_bytes()
    with flushed_redis(REDIS_URL):
        svc = Services(Settings(data_dir=tmp_path / "data", redis_url=REDIS_URL,
                                **s3_server.settings(prefix, endpoint=proxy.endpoint)))
        try:
            client = TestClient(create_app(svc), raise_server_exceptions=False)
            r = client.post("/v1/applications", json={
                "applicant_name": "测试", "loan_type": "personal_consumer", "amount": 1000, "term_months": 6,
                "consent": {"agreed": True, "version": "v1"}})
            assert r.status_code == 201, r.text
            app = r.json()
            client.headers["Authorization"] = f"Bearer {app['applicant_token']}"

            proxy.cut = True
            r = client.post(f"/v1/applications/{app['id']}/documents", files={"file": ("id.jpg", data, "image/jpeg")})
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "storage_unavailable"
            assert proxy.cut_connections >= 1  # the PUT really started and was cut
            assert s3_server.objects(prefix) == {}
            with svc.sessions() as s:
                assert s.scalar(select(func.count()).select_from(Document)) == 0
            assert client.get(f"/v1/applications/{app['id']}").json()["documents"] == []

            proxy.cut = False
            r = client.post(f"/v1/applications/{app['id']}/documents", files={"file": ("id.jpg", data, "image/jpeg")})
            assert r.status_code == 202, r.text
            key = hashlib.sha256(data).hexdigest()
            assert list(s3_server.objects(prefix)) == [f"{prefix}/{key[:2]}/{key[2:4]}/{key}"]
            docs = client.get(f"/v1/applications/{app['id']}").json()["documents"]
            assert [d["id"] for d in docs] == [r.json()["document_id"]]
            assert svc.files.get(key) == data
        finally:
            proxy.close()
            set_services(None)
            svc.engine.dispose()
