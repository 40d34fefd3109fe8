"""The statement layout zoo: families of bank-statement layouts that differ in every way the
reader has to cope with (alignment, rules, column sets and order, date and amount forms, page
breaks, fonts, orientation, header wording).

Each family is modelled on the column vocabulary of one issuer's exported statement (ICBC,
CCB, ABC, BOC, BOCOM, CMB, PSBC, CITIC, Alipay, WeChat Pay and a few generic ones); the
drawing is our own and every name and number is invented. ``HELD_OUT`` families are never used
by tests or for tuning the reader: they are evaluated only, so their figures say how the reader
does on layouts it was not adjusted to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column keys the drawer knows: no, date, time, desc, type, remark, amount, credit, debit, dc,
# balance, cp, cpacct, currency, channel, status, place.


@dataclass(frozen=True)
class Family:
    name: str
    bank: str | None  # printed issuer heading; None: not a bank (no bank_name in the truth)
    issuer: str  # heading as printed
    columns: tuple[tuple[str, str], ...]  # (key, header label) left to right
    amount_form: str = "signed"  # signed | split | dc | suffix
    dc_values: tuple[str, str] = ("借", "贷")  # (debit, credit) marker
    date_fmt: str = "iso"  # iso | slash | compact | cn | dot
    time: str = ""  # "" | column | inline (same line) | line2 (second line of the date cell)
    plus: str = ""  # "+" prints + on credits (signed form)
    prefix: str = ""  # "" | "¥" | "RMB "
    thousands: bool = True
    fullwidth: bool = False  # full-width digits in dates and amounts
    ruling: str = "grid"  # grid | hlines | none | zebra
    header_align: str = "c"  # c: centred labels | l: left-aligned labels over right-aligned numbers
    date_align: str = "c"
    repeat_header: bool = True  # the column header is drawn again on every page
    subtotals: bool = False  # 本页收入合计 / 本页支出合计 under every page's rows
    landscape: bool = False
    font_style: tuple[str, ...] = ("sans",)
    size: float = 8.4
    holder_label: str = "户名"
    account_label: str = "账号"
    account_form: str = "plain"  # plain | spaced | masked
    period_label: str = "起止日期"
    period_sep: str = " 至 "
    period_printed: bool = True
    currency_label: str | None = "币种"  # None: no 币种 line in the header block
    currency_value: str = "人民币"
    summary_labels: tuple[str, str, str, str] | None = ("期初余额", "期末余额", "收入合计", "支出合计")
    summary_top: bool = True
    wrap_desc: bool = False  # a narrow description column: long descriptions wrap
    extra: dict = field(default_factory=dict)


F = Family
FAMILIES: tuple[Family, ...] = (
    F("icbc", "中国工商银行", "中国工商银行个人账户历史明细",
      (("date", "交易日期"), ("desc", "摘要"), ("place", "交易场所"), ("currency", "币种"),
       ("credit", "记账金额(收入)"), ("debit", "记账金额(支出)"), ("balance", "余额"), ("cp", "对方户名")),
      amount_form="split", ruling="grid", account_label="卡号", currency_label=None, size=7.6),
    F("ccb", "中国建设银行", "中国建设银行个人活期账户交易明细",
      (("no", "序号"), ("desc", "摘要"), ("currency", "币别"), ("date", "交易日期"), ("amount", "交易金额"),
       ("balance", "账户余额"), ("place", "交易地点/附言"), ("cp", "对方账号与户名")),
      date_fmt="compact", ruling="hlines", currency_label=None, period_label="查询期间", size=7.8),
    F("abc", "中国农业银行", "中国农业银行银行卡交易明细清单",
      (("date", "交易日期"), ("time", "交易时间"), ("amount", "交易金额"), ("balance", "本次余额"),
       ("cp", "对手信息"), ("channel", "交易渠道"), ("desc", "交易摘要")),
      date_fmt="compact", time="column", ruling="none", plus="+", period_label="起止日期",
      period_sep="-", holder_label="户名", summary_top=False),
    F("boc", "中国银行", "中国银行交易流水明细清单",
      (("date", "记账日期"), ("time", "记账时间"), ("currency", "币别"), ("amount", "金额"), ("balance", "余额"),
       ("desc", "交易名称"), ("channel", "渠道"), ("remark", "附言"), ("cp", "对方账户名"), ("cpacct", "对方卡号/账号")),
      landscape=True, ruling="grid", account_label="借记卡号", account_form="spaced", size=7.4,
      period_label="交易期间", currency_label=None),
    F("bocom", "交通银行", "交通银行对账单",
      (("date", "交易日期"), ("time", "交易时间"), ("place", "交易地点"), ("desc", "摘要"), ("dc", "借贷标志"),
       ("amount", "交易金额"), ("balance", "余额"), ("cp", "对方户名")),
      amount_form="dc", ruling="zebra", date_fmt="slash", time="column", period_sep="--"),
    F("cmb", "招商银行", "招商银行交易流水",
      (("date", "记账日期"), ("currency", "货币"), ("amount", "交易金额"), ("balance", "联机余额"),
       ("desc", "交易摘要"), ("cp", "对手信息")),
      header_align="l", date_align="l", ruling="none", holder_label="户名", account_form="masked",
      period_label="", period_sep=" -- ", currency_label=None, summary_labels=None, font_style=("serif",)),
    F("psbc", "中国邮政储蓄银行", "中国邮政储蓄银行个人账户交易明细",
      (("date", "交易日期"), ("type", "交易类型"), ("desc", "交易摘要"), ("credit", "收入"), ("debit", "支出"),
       ("balance", "余额"), ("cp", "对方户名")),
      amount_form="split", date_fmt="slash", subtotals=True, ruling="grid", holder_label="客户姓名"),
    F("citic", "中信银行", "中信银行账户交易明细",
      (("date", "交易日期"), ("desc", "摘要"), ("debit", "借方发生额"), ("credit", "贷方发生额"), ("balance", "余额"),
       ("cp", "对方户名"), ("cpacct", "对方账号")),
      amount_form="split", prefix="¥", ruling="hlines", holder_label="账户名称", period_label="账单周期",
      period_sep=" - ", landscape=True, wrap_desc=True),
    F("alipay", None, "支付宝交易明细",
      (("date", "交易时间"), ("type", "交易分类"), ("cp", "交易对方"), ("desc", "商品说明"), ("dc", "收/支"),
       ("amount", "金额"), ("balance", "账户余额"), ("status", "交易状态")),
      amount_form="dc", dc_values=("支出", "收入"), time="inline", ruling="hlines", holder_label="姓名",
      account_label="支付宝账户", account_form="masked", period_label="起始日期", period_sep=" 至 ",
      summary_labels=None, landscape=True),
    F("wechat", None, "微信支付交易明细证明",
      (("date", "交易时间"), ("type", "交易类型"), ("dc", "收/支/其他"), ("desc", "交易方式"), ("amount", "金额(元)"),
       ("balance", "余额(元)"), ("cp", "交易对方"), ("status", "当前状态")),
      amount_form="dc", dc_values=("支出", "收入"), time="line2", ruling="grid", prefix="¥",
      holder_label="姓名", account_label="账户", account_form="masked", period_label="查询时间",
      summary_labels=None, repeat_header=False),
    F("bilingual", "平安银行", "平安银行个人账户对账单 Account Statement",
      (("date", "日期 Date"), ("desc", "摘要 Description"), ("amount", "金额 Amount"), ("balance", "余额 Balance"),
       ("cp", "对方户名 Counterparty")),
      amount_form="suffix", date_fmt="cn", ruling="hlines", holder_label="户名 Name", account_label="账号 Account No.",
      period_label="Statement Period", period_sep=" to ", currency_label="币种 Currency", currency_value="CNY"),
    F("rural", "浙江农商银行", "浙江农商银行存款账户交易清单",
      (("date", "交易日期"), ("desc", "摘要"), ("dc", "+/-"), ("amount", "发生额"), ("balance", "余额"), ("cp", "对方户名")),
      amount_form="dc", dc_values=("-", "+"), date_fmt="cn", fullwidth=True, subtotals=True, repeat_header=False,
      ruling="none", font_style=("kai",), holder_label="客户名称"),
    F("cib", "兴业银行", "兴业银行个人账户交易明细",
      (("date", "交易日期"), ("desc", "摘要"), ("credit", "存入"), ("debit", "支取"), ("balance", "账户余额"),
       ("remark", "备注"), ("cp", "对方户名")),
      amount_form="split", time="line2", ruling="grid", landscape=True, wrap_desc=True, thousands=False,
      period_label="交易期间", period_sep=" 至 ", period_printed=False, summary_labels=None),
    F("spdb", "上海浦东发展银行", "上海浦东发展银行账户对账单",
      (("date", "交易日期"), ("desc", "摘要"), ("dc", "借贷"), ("amount", "发生额"), ("balance", "余额"),
       ("cp", "对方户名")),
      amount_form="dc", dc_values=("D", "C"), prefix="RMB ", date_fmt="dot", ruling="zebra", header_align="l",
      account_form="spaced", period_label="查询期间", period_sep="～", font_style=("serif",)),
)
# Evaluated only; no test or tuning looks at them.
HELD_OUT = ("bocom", "wechat", "bilingual", "citic")
BY_NAME = {f.name: f for f in FAMILIES}
