"""What encryption at rest costs: AES-256-GCM on files and column values, and how long an online
key rotation takes over a store of a given size, on SQLite and PostgreSQL.

Rows are what one ID card upload leaves (name, consent IP, file name, the extraction JSON, a
correction with its reason, supplement list: 7 values), built with the repository functions.
Files are random bytes of a typical upload size.

    .venv/bin/python benchmarks/bench_crypto.py [--apps 1000] [--files 200] [--file-kib 300]
        [--pg postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from loandocs.store import crypto, db, rekey  # noqa: E402
from loandocs.store import repository as repo
from loandocs.store.files import DocumentStore  # noqa: E402

RESULT = [{"file": "身份证.jpg", "doc_type": "id_card_front", "pages": [1], "fields": {
    k: {"value": v, "confidence": 0.97, "page": 1, "bbox": [10, 20, 300, 60]} for k, v in {
        "name": "欧阳建国", "sex": "男", "ethnicity": "汉", "birth_date": "1985-03-07",
        "address": "北京市海淀区中关村大街27号院3号楼2单元501室", "id_number": "11010819850307231X"}.items()}}]


def _median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def primitives(file_kib: int) -> None:
    ring = crypto.Keyring.generate()
    data = os.urandom(file_kib * 1024)
    blob = ring.encrypt(data, b"file:x")
    enc = _median_ms(lambda: ring.encrypt(data, b"file:x"), 50)
    dec = _median_ms(lambda: ring.decrypt(blob, b"file:x"), 50)
    import json

    value = json.dumps(RESULT, ensure_ascii=False)
    sealed = ring.encrypt_text(value, b"c")
    col_enc = _median_ms(lambda: ring.encrypt_text(value, b"c"), 2000) * 1000
    col_dec = _median_ms(lambda: ring.decrypt_text(sealed, b"c"), 2000) * 1000
    print(f"file {file_kib} KiB: encrypt {enc:.2f} ms, decrypt {dec:.2f} ms "
          f"({file_kib / 1024 / (enc / 1000):.0f} MiB/s encrypt)")
    print(f"extraction JSON {len(value.encode())} B -> {len(sealed)} B stored: "
          f"encrypt {col_enc:.1f} us, decrypt {col_dec:.1f} us")


def rotation(url: str, label: str, apps: int, files: int, file_kib: int, folder: Path) -> None:
    ring = crypto.load_keyring(None, folder / "keys" / "k.keys")
    eng = db.make_engine(url)
    crypto.bind_keyring(eng, ring)
    db.migrate(eng)
    store = DocumentStore(folder / "data", cipher=ring)
    t = time.perf_counter()
    with db.session_factory(eng)() as s:
        for n in range(apps):
            app = repo.create_application(s, applicant_name=f"欧阳建国{n}", loan_type="personal_consumer", amount=1,
                                          term_months=12, application_date=dt.date(2026, 11, 29))
            repo.record_consent(s, app.id, text_version="v1", channel="web", ip="203.0.113.7")
            doc = repo.add_document(s, app.id, filename="欧阳建国身份证.jpg", content_type="image/jpeg", size=1,
                                    sha256=f"{n:064x}", storage_key=f"{n:064x}")
            repo.add_extraction(s, doc.id, RESULT, "bench")
            repo.add_correction(s, doc.id, "address", "北京市海淀区", corrected_by="r", reason="核对")
            repo.set_supplement_requirements(s, app.id, [{"code": "missing_document", "doc_type": "bank_statement"}])
            if n % 200 == 199:
                s.commit()
        s.commit()
    for _ in range(files):
        store.put(os.urandom(file_kib * 1024))
    build = time.perf_counter() - t
    inv = rekey.inventory(eng, store)
    t = time.perf_counter()
    result = rekey.rotate(eng, store, ring, new_key=True, pause=0.0)
    took = time.perf_counter() - t
    print(f"{label}: built {sum(inv.rows.values())} values + {sum(inv.files.values())} files in {build:.1f} s; "
          f"rotate: {result.rows} values + {result.files} files in {took:.2f} s, {result.passes} pass(es) "
          f"({result.rows / took:.0f} values/s overall)")
    eng.dispose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=1000)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--file-kib", type=int, default=300)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    primitives(args.file_kib)
    with tempfile.TemporaryDirectory() as tmp:
        rotation(db.default_url(Path(tmp) / "sqlite"), "SQLite", args.apps, args.files, args.file_kib, Path(tmp) / "s")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db.normalize_url(args.pg))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rotation(f"{args.pg}?options=-csearch_path%3D{schema}", "PostgreSQL", args.apps, args.files,
                     args.file_kib, Path(tmp))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
