"""One applicant's complete set of materials (ID front and back, income certificate,
6-month statement) that agree with each other: for end-to-end tests and demos, where the
sample sets' files (each a different person) would raise name_mismatch."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import random
from pathlib import Path

import numpy as np

from loandocs.samplegen import idcard
from loandocs.samplegen.financial_set import _pdf
from loandocs.samplegen.identity import REFERENCE_DATE, Identity, random_identity
from loandocs.samplegen.income import random_certificate, render_certificate
from loandocs.samplegen.statement import random_statement, render_statement


def application_bundle(out_dir: str | Path, seed: int = 1, validity: str = "valid",
                       reference: dt.date | None = None) -> list[Path]:
    """Write id_front.jpg, id_back.jpg, income.pdf and statement.pdf for one invented person;
    ``validity="expired"`` makes the ID card's back expired.

    The documents are dated for an application made on ``reference`` (default: the sample
    sets' fixed REFERENCE_DATE, so tests are reproducible); the demo passes today so its
    files never go stale. Only the dates move: the same seed gives the same person."""
    shift = (reference or REFERENCE_DATE) - REFERENCE_DATE
    digest = hashlib.sha256(f"bundle:{seed}:{validity}".encode()).digest()
    rng, nprng = random.Random(digest[:16]), np.random.default_rng(int.from_bytes(digest[16:], "big"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ident = _shift_identity(random_identity(rng, birth_years=(1970, 1995), validity=validity), shift)
    paths = []
    for side, render in (("id_front", idcard.render_front), ("id_back", idcard.render_back)):
        img = idcard.scan_image(render(ident, rng, nprng, 1100), rng, nprng)
        path = out / f"{side}.jpg"
        idcard.save_jpeg(img, str(path), 92)
        paths.append(path)
    cert = random_certificate(rng, ident.name, ident.id_number, ident.sex, ident.birth_date)
    cert.issue_date += shift
    cert.employment_start = (cert.employment_start + shift).replace(day=1)
    (out / "income.pdf").write_bytes(_pdf(lambda cv: render_certificate(cv, cert, rng, nprng)))
    # Take-home pay a little under the certified pre-tax income, as in life.
    st = random_statement(rng, ident.name, employer=cert.employer, salary=cert.monthly * 85 // 100)
    st.period_start += shift
    st.period_end += shift
    for t in st.txns:
        t.date += shift
    (out / "statement.pdf").write_bytes(_pdf(lambda cv: render_statement(cv, st, rng, nprng, "signed")))
    paths += [out / "income.pdf", out / "statement.pdf"]
    # Who the invented person is and for which application date the files were made, for the
    # demo's application (kept out of the returned files, which are what gets uploaded).
    (out / "person.json").write_text(json.dumps(
        {"name": ident.name, "application_date": (reference or REFERENCE_DATE).isoformat(), "validity": validity},
        ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


def _shift_identity(ident: Identity, shift: dt.timedelta) -> Identity:
    # The card's validity moves with the application date; the birth date stays, so the
    # holder is a few days older or younger, well inside the 18-65 range (born 1970-1995).
    if not shift:
        return ident
    until = ident.valid_until + shift if ident.valid_until else None
    return dataclasses.replace(ident, valid_from=ident.valid_from + shift, valid_until=until)
