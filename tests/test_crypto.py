"""Encryption at rest: the AES-GCM format, the key file, encrypted columns, migration 0003 of
rows left in clear, and online key rotation. Database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import stat
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from loandocs import cli
from loandocs.config import Settings
from loandocs.errors import ConfigError
from loandocs.services import Services, set_services
from loandocs.store import crypto, db, rekey
from loandocs.store import repository as repo
from loandocs.store.files import DocumentStore
from loandocs.store.tables import Application, Consent, Document

NAME, ID_NUMBER = "欧阳建国", "11010819850307231X"


def _code(excinfo) -> str:
    return excinfo.value.code


# -- format ---------------------------------------------------------------------------------

def test_round_trip_and_format():
    ring = crypto.Keyring.generate()
    blob = ring.encrypt(ID_NUMBER.encode(), b"ctx")
    assert blob.startswith(b"LDE1" + ring.primary_id.encode()) and ID_NUMBER.encode() not in blob
    assert ring.decrypt(blob, b"ctx") == ID_NUMBER.encode()
    assert ring.encrypt(ID_NUMBER.encode(), b"ctx") != blob  # a fresh nonce every time

    value = ring.encrypt_text(NAME, b"col")
    assert value.startswith(f"LDE1:{ring.primary_id}:") and NAME not in value
    assert ring.decrypt_text(value, b"col") == NAME
    assert crypto.text_key_id(value) == ring.primary_id and crypto.blob_key_id(blob) == ring.primary_id


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
def test_any_flipped_bit_is_detected(where):
    ring = crypto.Keyring.generate()
    blob = bytearray(ring.encrypt(b"salary 12345.00", b"ctx"))
    pos = {"nonce": crypto.HEADER_LEN, "ciphertext": crypto.HEADER_LEN + 12, "tag": len(blob) - 1}[where]
    blob[pos] ^= 0x01
    with pytest.raises(crypto.EncryptionError) as e:
        ring.decrypt(bytes(blob), b"ctx")
    assert _code(e) == "decryption_failed"


def test_truncated_and_foreign_data_are_refused():
    ring = crypto.Keyring.generate()
    blob = ring.encrypt(b"x" * 40, b"ctx")
    for bad in (blob[:-5], blob[:crypto.HEADER_LEN + 3], b"%PDF-1.7 not encrypted"):
        with pytest.raises(crypto.EncryptionError) as e:
            ring.decrypt(bad, b"ctx")
        assert _code(e) == "decryption_failed"
    value = ring.encrypt_text("x", b"c")
    for bad in (value[:-4], value.replace(":", ";", 2), "LDE1:" + ring.primary_id + ":@@@", "plain"):
        with pytest.raises(crypto.EncryptionError) as e:
            ring.decrypt_text(bad, b"c")
        assert _code(e) == "decryption_failed"


def test_unknown_key_id_and_wrong_key():
    a, b = crypto.Keyring.generate(), crypto.Keyring.generate()
    with pytest.raises(crypto.EncryptionError) as e:
        b.decrypt(a.encrypt(b"data", b"ctx"), b"ctx")
    assert _code(e) == "encryption_key_unknown" and a.primary_id in e.value.message
    # Relabelled with a key id the ring has: the wrong key, so authentication fails.
    both = crypto.Keyring([crypto.new_key(), crypto.new_key()])
    blob = both.encrypt(b"data", b"ctx")
    other = both.key_ids[1].encode()
    with pytest.raises(crypto.EncryptionError) as e:
        both.decrypt(blob[:4] + other + blob[crypto.HEADER_LEN:], b"ctx")
    assert _code(e) == "decryption_failed"


def test_associated_data_mismatch():
    ring = crypto.Keyring.generate()
    value = ring.encrypt_text(NAME, crypto.column_aad("applications.applicant_name"))
    with pytest.raises(crypto.EncryptionError) as e:
        ring.decrypt_text(value, crypto.column_aad("documents.filename"))
    assert _code(e) == "decryption_failed"


# -- keys -----------------------------------------------------------------------------------

def test_key_file_created_0600_and_refused_when_readable_by_others(tmp_path):
    path = tmp_path / "keys" / "loandocs.keys"
    ring = crypto.load_keyring(None, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert crypto.load_keyring(None, path).primary_id == ring.primary_id  # read, not re-created
    [line] = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")]
    assert line.split()[0] == ring.primary_id and len(base64.b64decode(line.split()[1])) == 32

    for mode in (0o640, 0o604):
        path.chmod(mode)
        with pytest.raises(ConfigError) as e:
            crypto.load_keyring(None, path)
        assert _code(e) == "key_file_insecure"
    path.chmod(0o600)
    with pytest.raises(ConfigError) as e:
        crypto.load_keyring(None, tmp_path / "absent.keys", create=False)
    assert _code(e) == "key_file_missing"


@pytest.mark.parametrize("content", ["", "# only a comment\n", "deadbeef c2hvcnQ=\n", "nonsense\n",
                                     f"00000000 {base64.b64encode(b'k' * 32).decode()}\n"])
def test_bad_key_file_content(tmp_path, content):
    path = tmp_path / "k.keys"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content.encode())
    os.close(fd)
    with pytest.raises(ConfigError) as e:
        crypto.load_keyring(None, path)
    assert _code(e) == "encryption_key_invalid"


def test_keys_from_the_environment():
    k1, k2 = crypto.new_key(), crypto.new_key()
    ring = crypto.load_keyring(f"{crypto.encode_key(k1)}, {crypto.encode_key(k2)}", "/nonexistent/never.keys")
    assert ring.key_ids == (crypto.key_id(k1), crypto.key_id(k2)) and ring.primary_id == crypto.key_id(k1)
    assert ring.key_file is None
    for bad in ("not base64!", base64.b64encode(b"short").decode(), f"{crypto.encode_key(k1)},{crypto.encode_key(k1)}"):
        with pytest.raises(ConfigError) as e:
            crypto.load_keyring(bad, "/nonexistent/never.keys")
        assert _code(e) == "encryption_key_invalid"


def test_processes_starting_together_create_one_key(tmp_path):
    path = tmp_path / "keys" / "loandocs.keys"
    got, barrier = [], threading.Barrier(8)

    def start():
        barrier.wait()
        got.append(crypto.load_keyring(None, path).primary_id)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len(set(got)) == 1
    assert [p.name for p in path.parent.iterdir()] == ["loandocs.keys"]  # no temporary left over


def test_a_keyring_learns_a_rotation_from_its_file(tmp_path):
    path = tmp_path / "k.keys"
    writer, reader = crypto.load_keyring(None, path), crypto.load_keyring(None, path)
    writer.refresh_seconds = reader.refresh_seconds = 3600.0  # only an unknown key id may trigger it
    old = writer.primary_id
    new = rekey.add_primary_key(writer)
    assert writer.primary_id == new and writer.key_ids == (new, old)
    blob = writer.encrypt(b"after rotation", b"x")
    assert reader.key_ids == (old,)
    assert reader.decrypt(blob, b"x") == b"after rotation" and reader.primary_id == new


# -- columns and files ----------------------------------------------------------------------

def _bound(url, ring):
    eng = db.make_engine(url)
    crypto.bind_keyring(eng, ring)
    return eng


@pytest.fixture
def store_db(database_url, tmp_path):
    ring = crypto.load_keyring(None, tmp_path / "keys" / "k.keys")
    eng = _bound(database_url, ring)
    db.migrate(eng)
    yield eng, ring
    eng.dispose()


def _app_with_document(s, name=NAME, filename=f"{NAME}身份证.jpg", n=0):
    app = repo.create_application(s, applicant_name=name, loan_type="personal_consumer", amount="80000",
                                  term_months=24, purpose="装修", application_date=dt.date(2026, 11, 29))
    repo.record_consent(s, app.id, text_version="v1", channel="web", ip="203.0.113.7")
    doc = repo.add_document(s, app.id, filename=filename, content_type="image/jpeg", size=3,
                            sha256=f"{n:064x}", storage_key=f"{n:064x}")
    repo.add_extraction(s, doc.id, [{"file": filename, "doc_type": "id_card_front", "pages": [1],
                                     "fields": {"id_number": {"value": ID_NUMBER, "confidence": 0.9, "page": 1}}}],
                        "test")
    repo.add_correction(s, doc.id, "name", name, corrected_by="rev", reason=f"{name} misread")
    repo.set_supplement_requirements(s, app.id, [{"code": "document_expired", "message_zh": "2020-01-01"}])
    return app, doc


def test_columns_are_encrypted_in_the_database(store_db):
    eng, ring = store_db
    with db.session_factory(eng)() as s:
        app, doc = _app_with_document(s)
        s.commit()
        assert repo.get_application(s, app.id).applicant_name == NAME
        assert repo.latest_extraction(s, doc.id).result[0]["fields"]["id_number"]["value"] == ID_NUMBER
        assert repo.list_corrections(s, doc.id)[0].value == NAME
    with eng.connect() as conn:
        raw = {
            "applicant_name": conn.execute(text("SELECT applicant_name FROM applications")).scalar(),
            "supplement": conn.execute(text("SELECT supplement_requirements FROM applications")).scalar(),
            "ip": conn.execute(text("SELECT ip FROM consents")).scalar(),
            "filename": conn.execute(text("SELECT filename FROM documents")).scalar(),
            "result": conn.execute(text("SELECT result FROM extractions")).scalar(),
            "value": conn.execute(text("SELECT value FROM field_corrections")).scalar(),
            "reason": conn.execute(text("SELECT reason FROM field_corrections")).scalar(),
        }
    for column, value in raw.items():
        assert value.startswith(f"LDE1:{ring.primary_id}:"), column
        assert NAME not in value and ID_NUMBER not in value and "203.0.113.7" not in value, column
    with pytest.raises(TypeError):  # a query that could only ever silently match nothing
        select(Application).where(Application.applicant_name == NAME)


def test_a_value_moved_to_another_column_does_not_decrypt(store_db):
    eng, _ = store_db
    with db.session_factory(eng)() as s:
        app, doc = _app_with_document(s)
        s.commit()
    with eng.begin() as conn:
        conn.execute(text("UPDATE documents SET filename = (SELECT applicant_name FROM applications)"))
    with db.session_factory(eng)() as s:
        with pytest.raises(crypto.EncryptionError) as e:
            repo.get_document(s, doc.id)
        assert _code(e) == "decryption_failed"


def test_no_keyring_is_a_clear_error(tmp_path):
    saved = crypto.installed_keyring()
    crypto.install_keyring(None)
    try:
        eng = db.make_engine(db.default_url(tmp_path))
        db.migrate(eng)  # an empty database migrates without keys
        with db.session_factory(eng)() as s, pytest.raises(sa.exc.StatementError) as e:
            repo.create_application(s, applicant_name=NAME, loan_type="x", amount=1, term_months=1)
        # SQLAlchemy wraps errors raised while binding; the statement's values stay out of the
        # message (make_engine: hide_parameters), or the name would be in every log line.
        assert isinstance(e.value.orig, crypto.EncryptionError) and e.value.orig.code == "keyring_missing"
        assert NAME not in str(e.value)
        eng.dispose()
    finally:
        crypto.install_keyring(saved)


def test_files_are_encrypted_and_bound_to_their_name(tmp_path):
    ring = crypto.Keyring.generate()
    store = DocumentStore(tmp_path, cipher=ring)
    a, b = os.urandom(5000), os.urandom(7000)
    ka, kb = store.put(a), store.put(b)
    raw = store.path_for(ka).read_bytes()
    assert raw.startswith(b"LDE1" + ring.primary_id.encode()) and a[:64] not in raw
    assert store.get(ka) == a and store.key_id_of(ka) == ring.primary_id
    store.path_for(kb).write_bytes(raw)  # a's ciphertext under b's name
    with pytest.raises(crypto.EncryptionError) as e:
        store.get(kb)
    assert _code(e) == "decryption_failed"
    # A file written in clear before encryption existed is still readable, and counted as such.
    legacy = b"%PDF-1.4 written before encryption"
    kl = DocumentStore(tmp_path).put(legacy)
    assert store.get(kl) == legacy and store.key_id_of(kl) is None


# -- migration 0003 -------------------------------------------------------------------------

def _plaintext_rows_at_0002(url):
    db.migrate(url, "0002_auth_audit")
    eng = db.make_engine(url)
    now = dt.datetime(2026, 11, 29, 8, tzinfo=dt.timezone.utc)
    meta = sa.MetaData()
    meta.reflect(eng)  # the tables as revision 0002 made them: VARCHAR, JSON/JSONB
    t = meta.tables
    with eng.begin() as conn:
        conn.execute(t["applications"].insert().values(
            id="a1", application_no="LD20261129-000001", applicant_name=NAME, loan_type="personal_consumer",
            amount=Decimal("1.00"), term_months=12, purpose="", application_date=dt.date(2026, 11, 29),
            status="rejected", review_opinion=f"{NAME}收入不符", supplement_requirements=[{"code": "x"}],
            created_at=now, updated_at=now))
        conn.execute(t["consents"].insert().values(application_id="a1", text_version="v1", channel="web",
                                                   agreed_at=now, ip="198.51.100.9"))
        conn.execute(t["documents"].insert().values(
            id="d1", application_id="a1", filename=f"{NAME}.jpg", size=1, sha256="0" * 64, storage_key="0" * 64,
            status="extracted", attempts=1, created_at=now, updated_at=now))
        conn.execute(t["extractions"].insert().values(id="e1", document_id="d1", version=1, extractor_version="0",
                                                      created_at=now,
                                                      result=[{"fields": {"id_number": {"value": ID_NUMBER}}}]))
        conn.execute(t["field_corrections"].insert().values(document_id="d1", field="name", value=NAME,
                                                            reason="misread", corrected_by="r", corrected_at=now))
    return eng


def test_migration_encrypts_rows_left_in_clear(database_url):
    eng = _plaintext_rows_at_0002(database_url)
    saved = crypto.installed_keyring()
    crypto.install_keyring(None)
    try:  # rows and no keyring: refused, and nothing changed (the migration is one transaction)
        with pytest.raises(crypto.EncryptionError) as e:
            db.migrate(eng)
        assert _code(e) == "keyring_missing"
    finally:
        crypto.install_keyring(saved)
    with eng.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002_auth_audit"
        assert conn.execute(text("SELECT applicant_name FROM applications")).scalar() == NAME

    ring = crypto.Keyring.generate()
    crypto.bind_keyring(eng, ring)
    db.migrate(eng)
    with eng.connect() as conn:
        raw = conn.execute(text("SELECT a.applicant_name, a.review_opinion, a.supplement_requirements, c.ip, "
                                "d.filename, e.result, f.value, f.reason FROM applications a "
                                "JOIN consents c ON c.application_id = a.id JOIN documents d ON d.application_id = a.id "
                                "JOIN extractions e ON e.document_id = d.id "
                                "JOIN field_corrections f ON f.document_id = d.id")).one()
    # All rows survived (a SQLite table rebuild with foreign keys on would cascade-delete them).
    assert all(v.startswith(f"LDE1:{ring.primary_id}:") for v in raw), raw
    with db.session_factory(eng)() as s:
        app = repo.get_application(s, "a1")
        assert (app.applicant_name, app.review_opinion, app.supplement_requirements) == (
            NAME, f"{NAME}收入不符", [{"code": "x"}])
        assert s.scalar(select(Consent.ip)) == "198.51.100.9"
        assert repo.get_document(s, "d1").filename == f"{NAME}.jpg"
        assert repo.latest_extraction(s, "d1").result == [{"fields": {"id_number": {"value": ID_NUMBER}}}]
        [c] = repo.list_corrections(s, "d1")
        assert (c.value, c.reason) == (NAME, "misread")
    eng.dispose()


# -- rotation -------------------------------------------------------------------------------

def test_rotation_reencrypts_rows_and_files_while_another_process_reads(database_url, tmp_path):
    key_path = tmp_path / "keys" / "loandocs.keys"
    ring = crypto.load_keyring(None, key_path)
    ring.refresh_seconds = 0.1
    eng = _bound(database_url, ring)
    db.migrate(eng)
    store = DocumentStore(tmp_path / "data", cipher=ring)
    names, blobs = {}, {}
    with db.session_factory(eng)() as s:
        for n in range(12):
            app, _ = _app_with_document(s, name=f"{NAME}{n}", n=n)
            names[app.id] = f"{NAME}{n}"
        s.commit()
    for n in range(10):
        data = os.urandom(3000 + n)
        blobs[store.put(data)] = data
    old = ring.primary_id
    before = rekey.inventory(eng, store)
    # 12 x (name, supplement, ip, filename, result, correction value, correction reason, history reason)
    assert before.rows == {old: 96} and before.files == {old: 10}

    # Two other processes, each with its own engine and keyring loaded before the rotation (old
    # key only): a reader, who only learns the new key from an unknown key id, and a writer,
    # who looks at the key file every second and meanwhile keeps writing under the old key.
    other = crypto.load_keyring(None, key_path)
    other.refresh_seconds = 3600.0
    other_eng, other_store = _bound(database_url, other), DocumentStore(tmp_path / "data", cipher=other)
    stale = crypto.load_keyring(None, key_path)
    stale.refresh_seconds = 1.0
    stale_eng = _bound(database_url, stale)
    stop, errors, reads, written = threading.Event(), [], [0], []

    def reader():
        while not stop.is_set():
            try:
                with db.session_factory(other_eng)() as s:
                    got = {a.id: a.applicant_name for a in s.scalars(select(Application))}
                    assert {k: got[k] for k in names} == names
                    for d in s.scalars(select(Document)):
                        repo.latest_extraction(s, d.id)
                for key, data in blobs.items():
                    assert other_store.get(key) == data
                reads[0] += 1
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
                return

    def writer():  # keeps writing with its stale keyring until it notices the new key
        n = 100
        while not stop.is_set():
            try:
                with db.session_factory(stale_eng)() as s:  # writes without reading anything encrypted
                    repo.create_application(s, applicant_name=f"w{n}", loan_type="personal_consumer",
                                            amount=1, term_months=1)
                    s.commit()
                written.append(n)
                n += 1
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
                return
            stop.wait(0.02)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    while reads[0] < 1 and not errors:
        stop.wait(0.01)
    result = rekey.rotate(eng, store, ring, batch=7, pause=1.2)
    new = ring.primary_id
    reads_at_end = reads[0]
    while reads[0] < reads_at_end + 1 and not errors:  # one more full read after the rotation
        stop.wait(0.01)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert new != old and other.key_ids == stale.key_ids == (new, old)
    after = rekey.inventory(eng, store)
    assert after.outside(new) == 0 and after.total(old) == 0
    assert after.files[new] == 10 and after.rows[new] == 96 + 2 * len(written)  # name + history reason each
    assert result.files == 10 and result.rows >= 96 and len(written) > 0

    # Retiring: refused for the primary, done for the old key, and everything still reads.
    with pytest.raises(rekey.KeyInUse) as e:
        rekey.retire(eng, store, ring, new)
    assert _code(e) == "key_is_primary"
    rekey.retire(eng, store, ring, old)
    assert ring.key_ids == (new,) and old not in key_path.read_text()
    fresh = crypto.load_keyring(None, key_path)
    assert DocumentStore(tmp_path / "data", cipher=fresh).get(next(iter(blobs))) is not None
    for engine in (eng, other_eng, stale_eng):
        engine.dispose()


def test_retire_refuses_a_key_still_in_use_and_resume_encrypts_old_plaintext(tmp_path):
    ring = crypto.load_keyring(None, tmp_path / "k.keys")
    eng = _bound(db.default_url(tmp_path), ring)
    db.migrate(eng)
    store = DocumentStore(tmp_path, cipher=ring)
    store.put(b"one file")
    legacy = DocumentStore(tmp_path).put(b"%PDF-1.4 stored before encryption")  # in clear
    old = ring.primary_id
    rekey.add_primary_key(ring)
    with pytest.raises(rekey.KeyInUse) as e:
        rekey.retire(eng, store, ring, old)
    assert _code(e) == "key_in_use" and "1 files" in e.value.message
    with pytest.raises(rekey.KeyInUse) as e:
        rekey.retire(eng, store, ring, "0badc0de")
    assert _code(e) == "key_not_in_keyring"
    assert rekey.inventory(eng, store).files == {old: 1, rekey.PLAINTEXT: 1}
    assert rekey.rotate(eng, store, ring, new_key=False).files == 2  # --resume
    assert rekey.inventory(eng, store).files == {ring.primary_id: 2}
    assert store.get(legacy) == b"%PDF-1.4 stored before encryption" and store.key_id_of(legacy) == ring.primary_id
    eng.dispose()


# -- services and the command line ----------------------------------------------------------

def test_services_refuse_a_database_written_with_another_key(tmp_path):
    url = db.default_url(tmp_path / "db")
    first = Services(Settings(data_dir=tmp_path / "a", database_url=url))
    with first.sessions() as s:
        _app_with_document(s)
        s.commit()
    assert stat.S_IMODE((tmp_path / "a" / "keys" / "loandocs.keys").stat().st_mode) == 0o600
    second = Services(Settings(data_dir=tmp_path / "b", database_url=url))  # a fresh key file
    with pytest.raises(ConfigError) as e:
        second.engine
    assert _code(e) == "encryption_key_unknown" and first.keyring.primary_id in e.value.message
    first.engine.dispose()


def test_keys_commands(tmp_path, capsys):
    svc = Services(Settings(data_dir=tmp_path / "data"))
    set_services(svc)
    try:
        with svc.sessions() as s:
            _app_with_document(s)
            s.commit()
        svc.files.put(b"a stored upload")
        old = svc.keyring.primary_id
        assert cli.main(["keys", "status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["primary"] == old and status["keys"] == [
            {"key_id": old, "primary": True, "in_keyring": True, "values": 8, "files": 1}]

        assert cli.main(["keys", "retire", old]) == cli.EXIT_ENVIRONMENT
        assert "key_is_primary" in capsys.readouterr().err
        svc.keyring.refresh_seconds = 0.1
        assert cli.main(["keys", "rotate"]) == 0
        out = capsys.readouterr().out
        new = svc.keyring.primary_id
        assert f"re-encrypted 8 values and 1 files under key {new}" in out and "0 left" in out
        assert cli.main(["keys", "retire", old]) == 0
        assert cli.main(["keys", "status", "--json"]) == 0
        capsys.readouterr()
        with svc.sessions() as s:
            assert repo.get_application(s, s.scalar(select(Application.id))).applicant_name == NAME
            actions = [r[0] for r in s.execute(text("SELECT action FROM audit_events ORDER BY id"))]
        assert actions[-2:] == ["key_rotate", "key_retire"]
    finally:
        set_services(None)
        svc.engine.dispose()
