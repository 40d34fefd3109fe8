"""Income certificates and bank statements through the real pipeline (text layer and OCR)."""

import json

import pytest

from loandocs.evaluation import evaluate
from loandocs.reader import Pipeline

from .helpers import ROOT

# OCR and the text layer over the whole financial sample set: minutes; make test-fast leaves it out.
pytestmark = pytest.mark.slow

FIN = ROOT / "samples" / "financial"


@pytest.fixture(scope="module")
def report(pipeline):
    return evaluate(FIN, pipeline)


def test_financial_accuracy_targets(report):
    data = report.to_dict()
    cert = [v for k, v in data["by_field"].items() if k.startswith("income_certificate.")]
    right, total = sum(v["right"] for v in cert), sum(v["total"] for v in cert)
    assert right / total >= 0.98, [m for m in report.errors if "income_certificate" in m["field"]]
    stmt = [v for k, v in data["by_field"].items() if k.startswith("bank_statement.")]
    assert sum(v["right"] for v in stmt) / sum(v["total"] for v in stmt) >= 0.99
    rows = data["transaction_rows"]
    assert rows["pdf"]["accuracy"] >= 0.995
    assert rows["scan_pdf"]["accuracy"] >= 0.97
    assert data["by_field"]["income_certificate.has_seal"]["accuracy"] == 1.0
    assert data["edited_rows_flagged"] == {"right": 1, "total": 1}


def _doc(pipeline, name, doc_type):
    return next(d for d in pipeline.extract_path(FIN / name) if d.doc_type == doc_type)


def test_digital_statement_uses_the_text_layer_and_never_ocr(engine):
    class NoOcr:
        name = "none"

        def read(self, image):  # pragma: no cover - failing here is the point
            raise AssertionError("the text-layer path must not run OCR")

    pipeline = Pipeline(engine=NoOcr())
    doc = pipeline.extract_path(FIN / "statement_pdf_001.pdf")[0]
    assert doc.doc_type == "bank_statement"
    assert doc.fields["account_number"].source == "text_layer"
    assert len(doc.pages) >= 2 and len(doc.transactions) > 30


def test_statement_invariants_hold_on_clean_statements(pipeline):
    for name in ("statement_pdf_001.pdf", "statement_pdf_002.pdf", "statement_pdf_003.pdf", "statement_scan_pdf_001.pdf"):
        doc = _doc(pipeline, name, "bank_statement")
        f = {k: v.value for k, v in doc.fields.items()}
        assert round(f["opening_balance"] + f["total_credits"] - f["total_debits"], 2) == f["closing_balance"]
        prev = f["opening_balance"]
        for t in doc.transactions:
            assert round(prev + t.amount, 2) == t.balance, (name, t)
            prev = t.balance
        check = next(c for c in doc.checks if c.code == "balance_inconsistent")
        assert check.ok, check.message_zh


def test_edited_statement_is_flagged_at_the_edited_row(pipeline):
    truth = json.loads((FIN / "statement_pdf_004_edited.json").read_text())["documents"][0]
    doc = _doc(pipeline, "statement_pdf_004_edited.pdf", "bank_statement")
    check = next(c for c in doc.checks if c.code == "balance_inconsistent")
    assert not check.ok and check.severity == "review"
    assert f"transactions[{truth['edited_row']}]" in check.fields


def test_salary_estimate_from_payroll_credits(pipeline):
    truth = json.loads((FIN / "statement_pdf_002.json").read_text())["documents"][0]
    doc = _doc(pipeline, "statement_pdf_002.pdf", "bank_statement")
    assert doc.fields["monthly_salary_estimate"].value == pytest.approx(truth["salary_monthly"], rel=0.01)
    assert doc.fields["monthly_salary_estimate"].source == "derived"


def test_certificate_seal_and_staleness(pipeline):
    sealed = _doc(pipeline, "income_pdf_001.pdf", "income_certificate")
    assert sealed.fields["has_seal"].value is True and sealed.fields["has_seal"].bbox
    unsealed = _doc(pipeline, "income_pdf_004_no_seal.pdf", "income_certificate")
    assert unsealed.fields["has_seal"].value is False
    assert any(c.code == "seal_missing" and not c.ok for c in unsealed.checks)
    stale = _doc(pipeline, "income_scan_gray_002_stale.jpg", "income_certificate")
    assert stale.fields["has_seal"].value is True  # a grey seal, found by its shape
    assert any(c.code == "certificate_stale" and not c.ok for c in stale.checks)


def test_mixed_pdf_is_split_with_page_ranges(pipeline):
    truth = json.loads((FIN / "mixed_001.json").read_text())
    docs = pipeline.extract_path(FIN / "mixed_001.pdf")
    assert [(d.doc_type, d.pages) for d in docs] == [(e["doc_type"], e["pages"]) for e in truth["documents"]]
