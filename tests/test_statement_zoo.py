"""The statement reader on the layout zoo (loandocs/samplegen/statement_families.py): real PDFs
drawn per family, read through the real text layer, compared with the ground truth drawn
beside them. Only the tuned families are used here; the held-out ones are for
``loandocs eval samples/statements`` alone (see benchmarks/RESULTS.md)."""

from __future__ import annotations

import pytest

pytest.importorskip("reportlab")

from loandocs.errors import InputError  # noqa: E402
from loandocs.extractor.layout import group_rows  # noqa: E402
from loandocs.extractor.loading import load_file, render_pdf_pages  # noqa: E402
from loandocs.extractor.options import Limits  # noqa: E402
from loandocs.extractor.parsers.statement import balance_breaks, parse_statement  # noqa: E402
from loandocs.extractor.textlayer import read_text_layer  # noqa: E402
from loandocs.samplegen.statement_families import FAMILIES, HELD_OUT  # noqa: E402
from loandocs.samplegen.statement_zoo import make_sample  # noqa: E402

TUNED = [f.name for f in FAMILIES if f.name not in HELD_OUT]
SEED = 77  # not the seed of samples/statements


def _read(pdf: bytes, source: str = "text_layer"):
    pages = [p for p in read_text_layer(pdf, Limits()) if p.usable]
    return parse_statement([(p.number, group_rows(p.lines), p.lines) for p in pages], source)


def test_held_out_families_are_kept_apart():
    assert len(FAMILIES) >= 12 and len(HELD_OUT) >= 4
    assert set(HELD_OUT) <= {f.name for f in FAMILIES}


@pytest.mark.parametrize("family", TUNED)
def test_tuned_family_reads_every_row_and_header_field(family: str):
    pdf, truth = make_sample(next(f for f in FAMILIES if f.name == family), SEED, "pdf", 1)
    doc = truth["documents"][0]
    fields, txs, extras = _read(pdf)
    got = {k: fields[k].value for k in doc["fields"] if k in fields}
    assert got == doc["fields"]
    assert [(t.date, t.amount, t.balance) for t in txs] == [(t["date"], t["amount"], t["balance"]) for t in doc["transactions"]]
    assert [t.description for t in txs] == [t["description"] for t in doc["transactions"]]
    assert extras["table_found"] and extras["balance_breaks"] == [] and extras["subtotal_breaks"] == []
    # a currency printed as text carries that text's confidence, never a guess
    assert fields["currency"].confidence == 1.0 and fields["currency"].source == "text_layer"


@pytest.mark.parametrize("family", TUNED)
def test_edited_amount_breaks_the_balance_at_its_row(family: str):
    pdf, truth = make_sample(next(f for f in FAMILIES if f.name == family), SEED, "edited", 1)
    doc = truth["documents"][0]
    fields, txs, _ = _read(pdf)
    assert doc["edited_row"] in balance_breaks(fields["opening_balance"].value, txs)


def test_printed_period_masked_account_and_page_subtotals():
    by = {f.name: f for f in FAMILIES}
    pdf, truth = make_sample(by["cmb"], SEED, "pdf", 1)
    fields, txs, extras = _read(pdf)
    assert fields["account_number"].value == truth["documents"][0]["fields"]["account_number"]
    assert "*" in fields["account_number"].value and extras["account_masked"] is True
    assert fields["period_start"].source == "text_layer"  # printed without a label (-- between)
    # 本页收入合计 under every page: checked against the page's rows, never the statement total
    pdf, truth = make_sample(by["psbc"], SEED, "pdf", 1)
    fields, txs, extras = _read(pdf)
    assert fields["total_credits"].value == truth["documents"][0]["fields"]["total_credits"]
    assert extras["subtotal_breaks"] == []
    # a period not printed comes from the rows, marked derived
    pdf, truth = make_sample(by["cib"], SEED, "pdf", 1)
    fields, _, _ = _read(pdf)
    assert fields["period_start"].source == "derived"
    assert fields["period_start"].value == truth["documents"][0]["fields"]["period_start"]


def test_ocr_rows_that_break_the_balance_lose_confidence():
    pdf, truth = make_sample(next(f for f in FAMILIES if f.name == "psbc"), SEED, "edited", 1)
    row = truth["documents"][0]["edited_row"]
    _, txs, extras = _read(pdf, source="ocr")
    assert row in extras["suspect_rows"] and txs[row].confidence <= 0.5
    _, txs, extras = _read(pdf, source="text_layer")  # the text layer is exact: a break is an edit
    assert extras["suspect_rows"] == [] and txs[row].confidence == 1.0


def test_no_table_is_told():
    from .test_textlayer import _pdf  # a one-paragraph PDF through reportlab

    pdf = _pdf(lambda c, _: (c.setFont("Helvetica", 12), c.drawString(60, 760, "Bank statement of nobody, 2026")), pages=1)
    pages = read_text_layer(pdf, Limits())
    fields, txs, extras = parse_statement([(p.number, group_rows(p.lines), p.lines) for p in pages], "text_layer")
    assert txs == [] and extras["table_found"] is False


def test_text_layer_pages_have_their_own_page_limit():
    pdf, _ = make_sample(next(f for f in FAMILIES if f.name == "abc"), SEED, "pdf", 1)
    n = len(read_text_layer(pdf, Limits()))
    assert n >= 2
    limits = Limits(max_pages=1, max_text_layer_pages=n)
    assert len(read_text_layer(pdf, limits)) == n  # read, not refused
    assert len(load_file(pdf, limits, render_pdf=False).pages) == n
    with pytest.raises(InputError) as e:  # rendering them all would cost pixels: the low limit
        render_pdf_pages(pdf, limits, set(range(1, n + 1)))
    assert e.value.code == "too_many_pages"
    with pytest.raises(InputError) as e:
        read_text_layer(pdf, Limits(max_pages=1, max_text_layer_pages=n - 1))
    assert e.value.code == "too_many_pages"
