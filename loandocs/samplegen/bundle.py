"""One applicant's complete set of materials (ID front and back, income certificate,
6-month statement) that agree with each other: for end-to-end tests and demos, where the
sample sets' files (each a different person) would raise name_mismatch."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np

from loandocs.samplegen import idcard
from loandocs.samplegen.financial_set import _pdf
from loandocs.samplegen.identity import random_identity
from loandocs.samplegen.income import random_certificate, render_certificate
from loandocs.samplegen.statement import random_statement, render_statement


def application_bundle(out_dir: str | Path, seed: int = 1, validity: str = "valid") -> list[Path]:
    """Write id_front.jpg, id_back.jpg, income.pdf and statement.pdf for one invented person;
    ``validity="expired"`` makes the ID card's back expired."""
    digest = hashlib.sha256(f"bundle:{seed}:{validity}".encode()).digest()
    rng, nprng = random.Random(digest[:16]), np.random.default_rng(int.from_bytes(digest[16:], "big"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ident = random_identity(rng, birth_years=(1970, 1995), validity=validity)
    paths = []
    for side, render in (("id_front", idcard.render_front), ("id_back", idcard.render_back)):
        img = idcard.scan_image(render(ident, rng, nprng, 1100), rng, nprng)
        path = out / f"{side}.jpg"
        idcard.save_jpeg(img, str(path), 92)
        paths.append(path)
    cert = random_certificate(rng, ident.name, ident.id_number, ident.sex, ident.birth_date)
    (out / "income.pdf").write_bytes(_pdf(lambda cv: render_certificate(cv, cert, rng, nprng)))
    # Take-home pay a little under the certified pre-tax income, as in life.
    st = random_statement(rng, ident.name, employer=cert.employer, salary=cert.monthly * 85 // 100)
    (out / "statement.pdf").write_bytes(_pdf(lambda cv: render_statement(cv, st, rng, nprng, "signed")))
    paths += [out / "income.pdf", out / "statement.pdf"]
    return paths
