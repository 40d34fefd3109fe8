"""Table reconstruction: real multi-page statement PDFs through the text layer, and hand-built
OCR lines the way the recogniser returns them."""

from __future__ import annotations

import io

import pytest

from loandocs.extractor.ocr.base import OcrLine, OcrWord
from loandocs.extractor.options import Limits
from loandocs.extractor.tables import Cell, Table, find_table
from loandocs.extractor.textlayer import read_text_layer

from .helpers import reportlab_cjk_font

CUES = {
    "date": ["交易日期", "日期", "记账日期"],
    "description": ["摘要", "交易类型", "业务摘要"],
    "amount": ["交易金额", "金额", "发生额"],
    "credit": ["收入", "存入", "贷方发生额"],
    "debit": ["支出", "取出", "借方发生额"],
    "dc": ["借/贷", "借贷", "收/支"],
    "balance": ["余额", "账户余额", "交易后余额"],
    "counterparty": ["对方户名", "对方账户名", "对手信息"],
}

# (date, description lines, signed amount, balance, counterparty)
TRANSACTIONS = [
    ("2024-01-02", ["工资"], "8,500.00", "18,500.00", "上海星辰科技有限公司"),
    ("2024-01-05", ["消费"], "-126.40", "18,373.60", "美团"),
    ("2024-01-09", ["转账"], "-2,000.00", "16,373.60", "李娜"),
    ("2024-01-15", ["跨行转账汇款手续费及", "服务费合并扣收"], "-12.00", "16,361.60", ""),
    ("2024-01-20", ["ATM取款"], "-500.00", "15,861.60", ""),
    ("2024-01-28", ["Alipay", "Transfer"], "-88.80", "15,772.80", "支付宝"),
    ("2024-02-01", ["工资"], "8,500.00", "24,272.80", "上海星辰科技有限公司"),
    ("2024-02-03", ["房租"], "-4,200.00", "20,072.80", "王强"),
    ("2024-02-10", ["利息"], "3.15", "20,075.95", ""),
    ("2024-02-14", ["消费"], "-520.00", "19,555.95", "京东商城"),
    ("2024-02-21", ["信用卡还款"], "-3,000.00", "16,555.95", "招商银行"),
    ("2024-03-01", ["工资"], "8,500.00", "25,055.95", "上海星辰科技有限公司"),
    ("2024-03-04", ["消费"], "-64.00", "24,991.95", "滴滴出行"),
    ("2024-03-11", ["转账"], "1,000.00", "25,991.95", "张伟"),
    ("2024-03-18", ["水电费"], "-231.77", "25,760.18", "国网上海电力"),
    ("2024-03-25", ["消费"], "-99.00", "25,661.18", "美团"),
]
PER_PAGE = [6, 6, 4]  # the wrapped row (index 3) sits on page 1, index 5 wraps ASCII words

SPLIT_HEADER = ["交易日期", "摘要", "收入", "支出", "余额", "对方户名"]
SIGNED_HEADER = ["交易日期", "交易类型", "交易金额(元)", "账户余额", "对方户名"]


def _cells(tx, split: bool) -> list[str]:
    date, desc, amount, balance, cp = tx
    if split:
        credit = "" if amount.startswith("-") else amount
        debit = amount[1:] if amount.startswith("-") else ""
        return [date, desc, credit, debit, balance, cp]
    return [date, desc, amount, balance, cp]


def make_statement(split: bool, ruled: bool) -> bytes:
    """A 3-page statement: title and account on page 1, the header repeated on every page,
    a footer on every page, summary lines after the table on the last page. Ruled tables
    centre cells vertically in a row; unruled ones align them to the top (both occur)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = reportlab_cjk_font()
    header = SPLIT_HEADER if split else SIGNED_HEADER
    widths = [72, 120, 72, 72, 80, 100] if split else [80, 130, 90, 90, 125]
    xs = [40]
    for w in widths:
        xs.append(xs[-1] + w)
    numeric = {2, 3, 4} if split else {2, 3}
    W, H = A4
    size, pitch = 9, 20
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    start = 0
    for page_i, count in enumerate(PER_PAGE):
        c.setFont(font, 14)
        c.drawCentredString(W / 2, H - 50, "中国星河银行个人账户交易明细")
        c.setFont(font, size)
        if page_i == 0:
            c.drawString(40, H - 80, "户名：张三")
            c.drawString(300, H - 80, "账号：6222 0210 0123 4567")
        y = H - 120  # top of the header row
        c.setFont(font, size)
        for j, label in enumerate(header):
            c.drawCentredString((xs[j] + xs[j + 1]) / 2, y - 14, label)
        row_tops = [y, y - pitch]
        y -= pitch
        for tx in TRANSACTIONS[start:start + count]:
            cells = _cells(tx, split)
            n_lines = len(tx[1])
            row_h = pitch + (n_lines - 1) * 12
            # baseline of the single-line cells: top-aligned (unruled) or centred (ruled)
            base = y - 14 if not ruled else y - row_h / 2 - size / 3
            for j, text in enumerate(cells):
                if j == 1:
                    first = y - 14 if not ruled else base + (n_lines - 1) * 6
                    for k, part in enumerate(text):
                        c.drawString(xs[j] + 4, first - 12 * k, part)
                elif j in numeric:
                    c.drawRightString(xs[j + 1] - 4, base, text)
                else:
                    c.drawString(xs[j] + 4, base, text)
            y -= row_h
            row_tops.append(y)
        if ruled:
            for yy in row_tops:
                c.line(xs[0], yy, xs[-1], yy)
            for x in xs:
                c.line(x, row_tops[0], x, row_tops[-1])
        if page_i == len(PER_PAGE) - 1:
            c.drawString(40, y - 20, "期末余额：25,661.18")
            c.drawString(40, y - 36, "合计  收入：26,503.15  支出：9,341.97")
        c.drawCentredString(W / 2, 40, f"第 {page_i + 1} 页 共 {len(PER_PAGE)} 页")
        c.showPage()
        start += count
    c.save()
    return buf.getvalue()


def _expected(split: bool) -> list[list[str]]:
    out = []
    for tx in TRANSACTIONS:
        desc = tx[1]
        joined = " ".join(desc) if all(p.isascii() for p in desc) else "".join(desc)
        cells = _cells(tx, split)
        cells[1] = joined
        out.append(cells)
    return out


def _texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


@pytest.mark.parametrize("ruled", [False, True], ids=["unruled", "ruled"])
@pytest.mark.parametrize("split", [True, False], ids=["credit_debit", "signed_amount"])
def test_statement_pdf_rows(split: bool, ruled: bool):
    pages = read_text_layer(make_statement(split, ruled), Limits(), dpi=200)
    assert [p.number for p in pages] == [1, 2, 3]
    assert all(p.usable for p in pages)
    table = find_table([(p.number, p.lines) for p in pages], CUES)
    assert table is not None
    if split:
        assert table.header == ["date", "description", "credit", "debit", "balance", "counterparty"]
        assert table.raw_header == SPLIT_HEADER
    else:
        assert table.header == ["date", "description", "amount", "balance", "counterparty"]
        assert table.raw_header == ["交易日期", "交易类型", "交易金额", "账户余额", "对方户名"]
    assert table.pages == [1, 2, 3]
    assert _texts(table) == _expected(split)
    # the repeated header is no row, the footer and the summary lines neither
    flat = "".join(c.text for row in table.rows for c in row)
    assert "交易日期" not in flat and "页" not in flat and "期末余额" not in flat and "合计" not in flat
    assert table.rows[3][1].text == "跨行转账汇款手续费及服务费合并扣收"
    assert table.rows[5][1].text == "Alipay Transfer"
    # cells know their page and box; empty cells have no box
    assert [r[0].page for r in table.rows] == [1] * 6 + [2] * 6 + [3] * 4
    assert all(r[0].bbox is not None and r[0].confidence == 1.0 for r in table.rows)
    empty = table.rows[3][-1]
    assert empty == Cell("", None, 1.0, 1)
    assert len(table.columns) == len(table.header)
    assert all(a < b for a, b in table.columns)


def test_no_header_no_table():
    lines = [_line("户名：张三", 40, 40), _line("账号：6222021001234567", 300, 40)]
    assert find_table([(1, lines)], CUES) is None


# -------------------------------------------------------------------- hand-built OCR lines


def _line(text: str, x0: float, y0: float, *, right: bool = False, h: float = 24.0,
          cw: float = 22.0, score: float = 0.98) -> OcrLine:
    """One OCR box: ``x0`` is the left edge, or the right edge when ``right``. Characters get
    boxes of width ``cw`` (digits half as wide), as a recogniser's per-character output."""
    widths = [cw / 2 if ch.isascii() else cw for ch in text]
    total = sum(widths)
    left = x0 - total if right else x0
    words, x = [], left
    for ch, w in zip(text, widths):
        if ch != " ":
            words.append(OcrWord(ch, score, (x, y0, x + w, y0 + h)))
        x += w
    return OcrLine(text, score, (left, y0, left + total, y0 + h), words)


def _ocr_page(rows: list[tuple[str, str, str, str, str]], *, dy: float = 0.0, dx: float = 0.0,
              header: bool = True, footer: str | None = None) -> list[OcrLine]:
    """Columns: date (left), description (left), amount and balance (right-aligned at the
    column's right edge), counterparty (left). Rows 40 px apart, a few px of jitter; a row
    without a date is a wrapped line, set 26 px under the line it continues."""
    jitter = [0, 3, -2, 2, -3, 1]
    lines = [_line("XX银行活期账户明细", 300 + dx, 20 + dy, h=30, cw=28)]
    y = 100 + dy
    if header:
        for text, cx in zip(["交易日期", "摘要", "交易金额", "余额", "对方户名"], [100, 320, 560, 760, 960]):
            lines.append(_line(text, cx - 22 * len(text) / 2 + dx, y + jitter[len(text) % 6]))
    for i, (date, desc, amount, balance, cp) in enumerate(rows):
        y += 40 if date else 26
        j = jitter[i % len(jitter)]
        if date:
            lines.append(_line(date, 40 + dx, y + j))
        if desc:
            lines.append(_line(desc, 240 + dx, y - j))
        if amount:
            lines.append(_line(amount, 640 + dx, y + j / 2, right=True))
        if balance:
            lines.append(_line(balance, 840 + dx, y, right=True))
        if cp:
            lines.append(_line(cp, 880 + dx, y + j, score=0.91))
    if footer:
        lines.append(_line(footer, 500 + dx, y + 120))
    return lines


@pytest.mark.parametrize("word_boxes", [True, False], ids=["char_boxes", "line_boxes_only"])
def test_ocr_lines_across_pages_with_wrap_and_summary(word_boxes: bool):
    page1 = _ocr_page([
        ("2024-05-06", "工资", "+6,000.00", "16,000.00", "某某公司"),
        ("2024-05-07", "网上支付跨行", "-35.50", "15,964.50", ""),
        ("", "清算交易", "", "", ""),  # wrapped description
        ("2024-05-09", "取现", "-1,000.00", "14,964.50", ""),
    ], footer="第 1 页 共 2 页")
    page2 = _ocr_page([
        ("2024-05-12", "消费", "-18.00", "14,946.50", "美团"),
        ("2024-05-20", "还款合计", "-200.00", "14,746.50", "王五"),  # 合计 inside a transaction
        ("期末余额", "", "", "14,746.50", ""),
        ("2024-09-09", "不是交易", "-1.00", "1.00", ""),  # after the summary: not read
    ], dy=-15, dx=25)  # the second scan is shifted: columns re-anchor on its own header
    if not word_boxes:  # an engine without per-character boxes
        for ln in page1 + page2:
            ln.words = []
    table = find_table([(1, page1), (2, page2)], CUES)
    assert table is not None
    assert table.header == ["date", "description", "amount", "balance", "counterparty"]
    assert _texts(table) == [
        ["2024-05-06", "工资", "+6,000.00", "16,000.00", "某某公司"],
        ["2024-05-07", "网上支付跨行清算交易", "-35.50", "15,964.50", ""],
        ["2024-05-09", "取现", "-1,000.00", "14,964.50", ""],
        ["2024-05-12", "消费", "-18.00", "14,946.50", "美团"],
        ["2024-05-20", "还款合计", "-200.00", "14,746.50", "王五"],
    ]
    assert table.pages == [1, 2]
    assert table.rows[0][4].confidence == pytest.approx(0.91)
    assert [r[0].page for r in table.rows] == [1, 1, 1, 2, 2]
    # the wrapped cell's box spans both lines
    box = table.rows[1][1].bbox
    assert box is not None and box[3] - box[1] > 50


def test_ocr_page_without_header_reuses_columns_and_wrap_over_page_break():
    page1 = _ocr_page([
        ("2024-05-06", "工资", "+6,000.00", "16,000.00", "某某公司"),
        ("2024-05-07", "Online", "-35.50", "15,964.50", ""),
    ])
    page2 = _ocr_page([
        ("2024-05-12", "消费", "-18.00", "15,946.50", "美团"),
    ], header=False)
    table = find_table([(1, page1), (2, page2)], CUES)
    assert table is not None
    assert _texts(table)[-1] == ["2024-05-12", "消费", "-18.00", "15,946.50", "美团"]
    assert table.pages == [1, 2]

    # a description wrapped over the page break joins the last row of the previous page
    page2 = _ocr_page([
        ("", "Payment", "", "", ""),
        ("2024-05-12", "消费", "-18.00", "15,946.50", "美团"),
    ])
    table = find_table([(1, page1), (2, page2)], CUES)
    assert table is not None
    assert _texts(table)[1] == ["2024-05-07", "Online Payment", "-35.50", "15,964.50", ""]
    assert len(table.rows) == 3


def test_centred_row_wraps_attach_to_the_nearer_transaction():
    """A tall row with its single-line cells centred: the first description line sits above
    the date and belongs to the transaction below it, not to the one above."""
    lines = _ocr_page([("2024-05-06", "工资", "+6,000.00", "16,000.00", "")])
    y = 100 + 40 * 2 + 20
    lines += [
        _line("跨行转账", 240, y),
        _line("2024-05-07", 40, y + 18), _line("-12.00", 640, y + 18, right=True),
        _line("15,988.00", 840, y + 18, right=True),
        _line("手续费", 240, y + 36),
        _line("2024-05-08", 40, y + 90), _line("收费", 240, y + 90),
        _line("-1.00", 640, y + 90, right=True), _line("15,987.00", 840, y + 90, right=True),
    ]
    table = find_table([(1, lines)], CUES)
    assert table is not None
    assert [r[1].text for r in table.rows] == ["工资", "跨行转账手续费", "收费"]


def test_merged_ocr_box_is_split_at_the_gap():
    lines = _ocr_page([("2024-05-06", "工资", "+6,000.00", "16,000.00", "")])
    # the detector merged date and description of the next row into one box with a wide gap
    merged = _line("2024-05-07", 40, 180)
    desc = _line("消费", 240, 180)
    lines.append(OcrLine("2024-05-07 消费", 0.97, (merged.x0, 180, desc.x1, 204), merged.words + desc.words))
    lines += [_line("-9.90", 640, 180, right=True), _line("15,990.10", 840, 180, right=True)]
    table = find_table([(1, lines)], CUES)
    assert table is not None
    assert _texts(table)[1] == ["2024-05-07", "消费", "-9.90", "15,990.10", ""]


def test_other_table_header_ends_the_statement():
    page = _ocr_page([("2024-05-06", "工资", "+6,000.00", "16,000.00", "")])
    # a summary table with a different header below the statement
    for text, x in [("币种", 40), ("收入金额", 240), ("支出金额", 500), ("交易后余额", 760)]:
        page.append(_line(text, x, 260))
    page += [_line("人民币", 40, 300), _line("6,000.00", 400, 300, right=True)]
    table = find_table([(1, page)], CUES)
    assert table is not None
    assert table.header == ["date", "description", "amount", "balance", "counterparty"]
    assert len(table.rows) == 1
