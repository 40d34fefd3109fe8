"""The document-kind registry and the statement kind's own reading aids."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from loandocs import kinds
from loandocs.kinds import bank_statement
from loandocs.kinds.base import PagePart, ParseInput
from loandocs.kinds.stages import _DATE
from loandocs.kinds.values import FIELD_LABELS
from loandocs.models import ExtractedField, Transaction

from .helpers import CJK_FONT


def test_registry_is_the_only_list():
    names = [k.name for k in kinds.KINDS]
    assert len(set(names)) == len(names)
    assert list(kinds.DOC_TYPES) == names + ["unknown"]
    assert [d.value for d in kinds.DocType] == list(kinds.DOC_TYPES)
    for kind in kinds.KINDS:
        assert kind.fields and all(f.name in FIELD_LABELS for f in kind.fields)
        assert set(kind.key_fields) <= set(kind.field_names), kind.name
        assert set(kind.duplicate_keys) <= set(kind.field_names), kind.name
        for role in (kind.name_field, kind.id_field, kind.stated_income_field, kind.paid_income_field):
            assert role is None or role in kind.field_names, (kind.name, role)
    assert kinds.classify_text("今天天气很好，我们去公园散步。") == ("unknown", 0.0)
    assert kinds.classify_text("收入证明 兹证明 月收入 特此证明")[0] == "income_certificate"


@pytest.mark.parametrize(
    ("text", "dated"),
    [
        ("2026-07-0615:28:29代发工资", True),  # a text layer may join the time to the date
        ("2026/4/2 消费", True),
        ("20260402 转账", True),
        ("2026年7月10日 利息", True),
        ("余额 123456.78", False),
        ("流水号 2026040222001", False),
    ],
)
def test_continuation_page_dates(text, dated):
    assert bool(_DATE.search(text)) is dated


def test_a_pair_is_taken_only_when_the_balance_holds_on_both_sides():
    nxt = Transaction(date="2026-04-03", amount=-100.0, balance=12245.67)
    numbers = [Decimal("2026"), Decimal("996.95"), Decimal("12345.67")]
    assert bank_statement._consistent_pair(numbers, 11348.72, 1.0, nxt) == (996.95, 12345.67)
    assert bank_statement._consistent_pair(numbers, 11348.72, -1.0, nxt) is None  # a credit, not a debit
    wrong_next = Transaction(date="2026-04-03", amount=-100.0, balance=99.0)
    assert bank_statement._consistent_pair(numbers, 11348.72, 1.0, wrong_next) is None


def test_printed_totals_that_disagree_with_the_rows_are_not_shown_as_sure():
    txs = [Transaction(date="2026-04-02", amount=1000.0, balance=3000.0), Transaction(date="2026-04-03", amount=-500.0, balance=2500.0)]
    fields = {
        "opening_balance": ExtractedField(value=2000.0, confidence=0.99),
        "closing_balance": ExtractedField(value=250.0, confidence=0.99),  # a dropped digit
        "total_credits": ExtractedField(value=1000.0, confidence=0.99),
        "total_debits": ExtractedField(value=500.0, confidence=0.99, source="text_layer"),
    }
    bank_statement._doubt_disagreeing_totals(fields, txs)
    assert {k: f.confidence for k, f in fields.items()} == {
        "opening_balance": 0.99, "closing_balance": 0.5, "total_credits": 0.99, "total_debits": 0.99,
    }  # fmt: skip


@pytest.mark.slow  # the real OCR engine
def test_a_misread_row_on_a_scan_is_read_again(engine):
    """The OCR first read 996.95 as 969665.0 (a lost decimal point): the row breaks the running
    balance, so the row's pixels are read again, enlarged, and the pair that restores the
    chain on both sides is taken, with a confidence that says it was read twice."""
    if not CJK_FONT.exists():
        pytest.skip("no CJK font")
    def row_image(text: str) -> np.ndarray:
        image = Image.new("RGB", (900, 60), "white")
        ImageDraw.Draw(image).text((10, 14), text, fill="black", font=ImageFont.truetype(str(CJK_FONT), 28))
        return np.asarray(image)

    image = row_image("2026-04-02  代发工资  996.95  12,345.67")
    row = Transaction(date="2026-04-02", amount=969665.0, balance=12345.67, page=1, bbox=[0, 0, 900, 60], confidence=0.97)
    after = Transaction(date="2026-04-03", amount=-100.0, balance=12245.67, page=1, bbox=[0, 60, 900, 120], confidence=0.97)
    part = PagePart(page=1, rows=[], lines=[], text_layer=False, image=lambda: image)
    doc = ParseInput(parts=[part], ocr=lambda: engine)
    assert bank_statement._reread_breaks(doc, [row, after], 11348.72) is True
    assert (row.amount, row.balance, row.confidence) == (996.95, 12345.67, bank_statement.REREAD_CONFIDENCE)

    # A row edited on paper reads the same the second time: it stays a break.
    image = row_image("2026-04-02  代发工资  996.95  99,999.00")
    edited = Transaction(date="2026-04-02", amount=996.95, balance=99999.0, page=1, bbox=[0, 0, 900, 60], confidence=0.97)
    assert bank_statement._reread_breaks(doc, [edited, after], 11348.72) is False
    assert (edited.amount, edited.balance) == (996.95, 99999.0)


def test_an_account_number_too_short_to_be_one_is_not_shown_as_sure():
    fields = {"account_number": ExtractedField(value="6275", confidence=0.99)}
    bank_statement._doubt_short_account(fields)
    assert fields["account_number"].confidence == 0.5
    for printed in ("6222020200112233", "6222********5505"):
        fields = {"account_number": ExtractedField(value=printed, confidence=0.99)}
        bank_statement._doubt_short_account(fields)
        assert fields["account_number"].confidence == 0.99
