"""Persistence layer, run against SQLite and PostgreSQL alike.

PostgreSQL is expected at ``LOANDOCS_TEST_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Each test gets a fresh schema that is dropped
afterwards. Unreachable PostgreSQL fails the PostgreSQL half loudly instead of skipping it.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from loandocs.models import DocumentResult, ExtractedField
from loandocs.store import db, files
from loandocs.store import repository as repo
from loandocs.store.tables import Base, Document


@pytest.fixture
def engine(database_url):
    db.migrate(database_url)
    eng = db.make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with db.session_factory(engine)() as s:
        yield s


def _new_app(session, **kw):
    args = dict(applicant_name="张伟", loan_type="personal_consumer", amount="150000.50", term_months=36,
                purpose="装修", application_date=dt.date(2026, 11, 29))
    args.update(kw)
    return repo.create_application(session, **args)


def _new_doc(session, app_id, sha="a" * 64):
    return repo.add_document(session, app_id, filename="id.jpg", content_type="image/jpeg", size=10,
                             sha256=sha, storage_key=sha)


def _result(doc_type="id_card_front", **values):
    return DocumentResult(file="id.jpg", doc_type=doc_type, pages=[1],
                          fields={k: ExtractedField(value=v, confidence=0.9, page=1, bbox=[1, 2, 3, 4])
                                  for k, v in values.items()})


# -- migrations -----------------------------------------------------------------------------

def test_migrations_reach_head_and_match_models(engine, database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from loandocs.store.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migrations must form one line, found heads {heads}"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == heads[0]
        if conn.dialect.name == "postgresql":  # really in the throwaway schema, not public
            assert conn.execute(text("SELECT current_schema()")).scalar().startswith("test_")
            assert conn.dialect.driver == "psycopg"
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.migrate(database_url)  # idempotent: a second start changes nothing


def test_postgres_url_is_rewritten_to_psycopg():
    assert db.normalize_url("postgresql://u:p@h/d").startswith("postgresql+psycopg://u:p@h/d")
    assert db.normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_enforces_foreign_keys(tmp_path):
    url = db.default_url(tmp_path)
    db.migrate(url)
    eng = db.make_engine(url)
    with db.session_factory(eng)() as s:
        s.add(Document(application_id="nope", filename="f", size=1, sha256="0" * 64, storage_key="k",
                       status="received", attempts=0))
        with pytest.raises(IntegrityError):
            s.flush()
    eng.dispose()


# -- applications, documents, extractions ---------------------------------------------------

def test_application_document_and_extraction_versions(session):
    app = _new_app(session)
    assert isinstance(app, repo.ApplicationRecord)
    assert app.status == "submitted" and app.amount == Decimal("150000.50")
    assert app.application_no.startswith("LD") and len(app.application_no) == len("LD20261129-000123")
    second = _new_app(session)
    assert int(second.application_no[-6:]) == int(app.application_no[-6:]) + 1

    with pytest.raises(repo.ConsentRequired) as e:
        _new_doc(session, app.id)
    assert e.value.code == "consent_required"
    consent = repo.record_consent(session, app.id, text_version="v1", channel="web", ip="127.0.0.1")
    assert consent.agreed_at.tzinfo is not None

    doc = _new_doc(session, app.id)
    assert doc.status == "received" and doc.attempts == 0
    e1 = repo.add_extraction(session, doc.id, [_result(name="张伟")], "0.1.0")
    e2 = repo.add_extraction(session, doc.id, [_result(name="张伟").model_dump()], "0.2.0")
    assert (e1.version, e2.version) == (1, 2)
    session.commit()

    latest = repo.latest_extraction(session, doc.id)
    assert latest.version == 2 and latest.extractor_version == "0.2.0"
    assert latest.result[0]["fields"]["name"]["value"] == "张伟"
    assert repo.get_application_by_no(session, app.application_no).id == app.id
    assert [d.id for d in repo.list_documents(session, app.id)] == [doc.id]
    with pytest.raises(repo.NotFound):
        repo.get_document(session, "missing")


def test_applicant_token_is_stored_hashed(session):
    token, digest = repo.new_applicant_token()
    app = _new_app(session, applicant_token_hash=digest)
    assert token not in digest
    assert repo.verify_applicant_token(session, app.id, token)
    assert not repo.verify_applicant_token(session, app.id, token + "x")


def test_correction_survives_new_extraction(session):
    app = _new_app(session)
    repo.record_consent(session, app.id, text_version="v1", channel="web")
    doc = _new_doc(session, app.id)
    repo.add_extraction(session, doc.id, [_result(name="张伟", id_number="110101199003071234")], "0.1.0")
    repo.add_correction(session, doc.id, "id_number", "11010119900307123X", corrected_by="rev1", reason="misread")
    # Re-processing after a model upgrade must not lose the reviewer's value.
    repo.add_extraction(session, doc.id, [_result(name="张伟", id_number="110101199003071235")], "0.2.0")
    session.commit()

    [part] = repo.effective_fields(session, doc.id)
    assert part.extraction_version == 2 and part.doc_type == "id_card_front"
    fixed = part.fields["id_number"]
    assert (fixed.value, fixed.source, fixed.bbox) == ("11010119900307123X", "reviewer", [1, 2, 3, 4])
    assert part.fields["name"].source == "ocr"


def test_correction_targets_one_document_of_a_mixed_file(session):
    app = _new_app(session)
    repo.record_consent(session, app.id, text_version="v1", channel="web")
    doc = _new_doc(session, app.id)
    repo.add_extraction(session, doc.id, [_result("id_card_front", name="张伟"),
                                          _result("income_certificate", employee_name="张伟")], "0.1.0")
    repo.add_correction(session, doc.id, "employer", "某某公司", corrected_by="rev1", doc_type="income_certificate")
    front, cert = repo.effective_fields(session, doc.id)
    assert "employer" not in front.fields
    assert cert.fields["employer"].value == "某某公司" and cert.fields["employer"].source == "reviewer"


# -- statuses -------------------------------------------------------------------------------

def test_status_transitions_and_history(session):
    app = _new_app(session)
    for to in ("accepted", "needs_supplement", "accepted", "collected", "under_review", "approved", "disbursed"):
        app = repo.change_status(session, app.id, to, actor="rev1", reason=f"to {to}")
    assert app.status == "disbursed"

    with pytest.raises(repo.IllegalTransition) as e:
        repo.change_status(session, app.id, "accepted", actor="rev1")
    assert e.value.code == "illegal_transition" and e.value.http_status == 409
    assert e.value.to_dict()["details"] == {"from_status": "disbursed", "to_status": "accepted"}
    session.commit()

    hist = repo.status_history(session, app.id)
    assert [(h.from_status, h.to_status) for h in hist][:3] == [
        (None, "submitted"), ("submitted", "accepted"), ("accepted", "needs_supplement")]
    assert len(hist) == 8 and hist[-1].to_status == "disbursed" and hist[-1].actor == "rev1"


@pytest.mark.parametrize("start,to", [("submitted", "approved"), ("submitted", "collected"),
                                      ("accepted", "approved"), ("submitted", "submitted")])
def test_illegal_transitions_refused(session, start, to):
    app = _new_app(session)
    if start == "accepted":
        repo.change_status(session, app.id, "accepted", actor="sys")
    with pytest.raises(repo.IllegalTransition):
        repo.change_status(session, app.id, to, actor="rev1")
    assert repo.get_application(session, app.id).status == start


# -- documents: statuses and the sweeper ----------------------------------------------------

def test_document_status_and_stuck_documents(session):
    app = _new_app(session)
    repo.record_consent(session, app.id, text_version="v1", channel="web")
    received = _new_doc(session, app.id, "1" * 64)
    queued = repo.set_document_status(session, _new_doc(session, app.id, "2" * 64).id, "queued")
    done = _new_doc(session, app.id, "3" * 64)
    assert repo.set_document_status(session, done.id, "processing").attempts == 1
    failed = repo.set_document_status(session, done.id, "failed", "corrupt_file", "truncated")
    assert (failed.status, failed.error_code, failed.error_message) == ("failed", "corrupt_file", "truncated")
    assert repo.set_document_status(session, done.id, "extracted").error_code is None
    with pytest.raises(ValueError):
        repo.set_document_status(session, done.id, "bogus")
    session.commit()

    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    stuck = repo.stuck_documents(session, dt.timedelta(minutes=5), now=later)
    assert {d.id for d in stuck} == {received.id, queued.id}
    assert repo.stuck_documents(session, dt.timedelta(minutes=5)) == []  # nothing that old yet


# -- file store -----------------------------------------------------------------------------

class _XorCipher:
    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        return bytes(b ^ 0x5A for b in data)

    decrypt = encrypt


def test_document_store_round_trip(tmp_path):
    store = files.DocumentStore(tmp_path, cipher=_XorCipher())
    key = store.put(b"%PDF-1.7 hello")
    path = tmp_path / "documents" / key[:2] / key[2:4] / key
    assert path.is_file() and path.read_bytes() != b"%PDF-1.7 hello"  # went through the cipher
    assert store.get(key) == b"%PDF-1.7 hello"
    assert store.put(b"%PDF-1.7 hello") == key  # content-addressed
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(files.StorageError) as e:
        store.get(key)
    assert e.value.code == "stored_file_missing"


def test_document_store_detects_corruption(tmp_path):
    store = files.DocumentStore(tmp_path)
    key = store.put(b"abc")
    store.path_for(key).write_bytes(b"abd")
    with pytest.raises(files.StorageError) as e:
        store.get(key)
    assert e.value.code == "stored_file_corrupt"


def test_document_store_write_is_atomic(tmp_path, monkeypatch):
    store = files.DocumentStore(tmp_path)

    def crash(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError):
        store.put(b"partial?")
    monkeypatch.undo()
    # Neither the final file nor a leftover temp file.
    assert [p for p in (tmp_path / "documents").rglob("*") if p.is_file()] == []

    # Concurrent writers of the same content all end with one whole file.
    data = os.urandom(1 << 20)
    threads = [threading.Thread(target=store.put, args=(data,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == data


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "a" * 63, "A" * 64,
                                 "ab/cd/" + "a" * 58, "..", "", "a" * 64 + "/.."])
def test_document_store_rejects_bad_keys(tmp_path, key):
    store = files.DocumentStore(tmp_path)
    for op in (store.get, store.delete, store.exists):
        with pytest.raises(files.StorageError) as e:
            op(key)
        assert e.value.code == "invalid_storage_key"


def test_default_url_is_under_data_dir(tmp_path):
    url = db.default_url(tmp_path / "data")
    assert url == f"sqlite:///{(tmp_path / 'data').resolve() / 'loandocs.db'}"
    assert Path(tmp_path / "data").is_dir()


def test_concurrent_creations_get_distinct_numbers(engine):
    # API workers creating applications at the same moment must not collide on the number.
    make_session = db.session_factory(engine)
    numbers, errors = [], []

    def create():
        try:
            with make_session() as s:
                numbers.append(_new_app(s).application_no)
                s.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 9))
