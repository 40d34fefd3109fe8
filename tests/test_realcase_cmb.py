"""A statement made outside this project: the China Merchants Bank style fixture of
wangzitian0/finance_report (Apache-2.0), read from ../shared/realcases (never copied here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

try:  # the pipeline with its default stages moved to loandocs.reader (rules/kinds split)
    from loandocs.reader import Pipeline
except ImportError:  # pragma: no cover - a checkout from before the split
    from loandocs.extractor import Pipeline

REALCASES = Path(__file__).resolve().parents[1].parent / "shared" / "realcases"
PDF = REALCASES / "cmb_statement_fixture.pdf"


@pytest.mark.skipif(not REALCASES.is_dir(), reason="shared/realcases is not beside the checkout")
def test_cmb_fixture_matches_its_expected_parse():
    expected = json.loads((REALCASES / "cmb_statement_fixture_expected.json").read_text(encoding="utf-8"))
    docs = Pipeline().extract(PDF.read_bytes(), PDF.name)
    assert [d.doc_type for d in docs] == ["bank_statement"]
    doc = docs[0]
    f = {k: v.value for k, v in doc.fields.items()}
    want = expected["statement"]
    assert f["period_start"] == want["period_start"] and f["period_end"] == want["period_end"]
    assert doc.fields["period_start"].source == "text_layer"  # printed, not derived from the rows
    assert f["opening_balance"] == float(want["opening_balance"])
    assert f["closing_balance"] == float(want["closing_balance"])
    assert f["account_number"][-4:] == want["account_last4"]
    assert f["currency"] == want["currency"] and doc.fields["currency"].confidence >= 0.9
    got = [(t.date, t.description, t.amount, t.balance) for t in doc.transactions]
    assert got == [(e["date"], e["description"], float(e["amount"]) * (1 if e["direction"] == "IN" else -1),
                    float(e["balance_after"])) for e in expected["events"]]
    checks = {c.code: c.ok for c in doc.checks}
    assert checks["balance_inconsistent"] is True
