"""个人信用报告: header, summary, accounts with their 24-month grid, queries and the derived
figures, read from born-digital reports (both templates, several pages) and, through the real
OCR engine, from a scan; the report's checks; the loan types that ask for it."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from loandocs.config import Settings
from loandocs.extractor.parsers.credit import hard_inquiries, longest_run
from loandocs.rules.assessment import assess
from loandocs.rules.validation import validate

from .test_assessment import DAY, ROOT, back, certificate, front, statement
from .test_web import site  # noqa: F401 - the reviewer site fixture

MATERIALS = ROOT / "samples" / "materials"
ACCOUNT_KEYS = ("institution", "account_type", "opened", "limit_or_principal", "balance", "status", "five_class",
                "overdue_periods", "overdue_amount", "repayment_24m")  # fmt: skip


def truth(name: str) -> dict:
    return json.loads((MATERIALS / f"{name}.json").read_text(encoding="utf-8"))["documents"][0]


def read(pipeline, path: Path):
    docs = [d for d in pipeline.extract_path(path) if d.doc_type == "credit_report"]
    assert len(docs) == 1, path
    return docs[0]


def failed(d) -> dict[str, object]:
    return {c.code: c for c in d.checks if not c.ok}


@pytest.mark.parametrize("name", ["credit_pdf_001", "credit_pdf_002", "credit_pdf_003", "credit_pdf_004"])
def test_born_digital_reports_read_exactly(pipeline, name):
    d = read(pipeline, MATERIALS / f"{name}.pdf")
    want = truth(name)
    assert d.pages == want["pages"]
    assert {k: d.fields[k].value if k in d.fields else None for k in want["fields"]} == want["fields"]
    accounts = d.tables["accounts"]
    assert [{k: a[k] for k in ACCOUNT_KEYS} for a in accounts] == want["tables"]["accounts"]
    assert [{k: q[k] for k in ("date", "institution", "reason")} for q in d.tables["queries"]] == want["tables"]["queries"]
    assert d.fields["overdue_months_24m"].source == "derived" and d.fields["name"].source == "text_layer"
    assert all(a["bbox"] and a["page"] in d.pages for a in accounts)


def test_checks_follow_the_report(pipeline):
    overdue = read(pipeline, MATERIALS / "credit_pdf_002.pdf")
    check = failed(overdue)["credit_overdue"]
    assert check.severity == "review" and str(overdue.fields["overdue_months_24m"].value) in check.message_zh
    many = failed(read(pipeline, MATERIALS / "credit_pdf_003.pdf"))
    assert many["credit_many_inquiries"].severity == "review"
    bad = read(pipeline, MATERIALS / "credit_pdf_004.pdf")
    bad_check = failed(bad)["credit_bad_class"]
    assert bad_check.fields == [f"accounts[{i}]" for i, a in enumerate(truth("credit_pdf_004")["tables"]["accounts"])
                                if a["five_class"] != "正常" or a["status"] in ("呆账", "冻结", "止付", "逾期")]  # fmt: skip
    stale = failed(read(pipeline, MATERIALS / "credit_pdf_005_stale.pdf"))
    assert stale["credit_report_stale"].severity == "supplement"
    clean = read(pipeline, MATERIALS / "credit_pdf_001.pdf")
    assert not {"credit_overdue", "credit_bad_class", "credit_report_stale"} & set(failed(clean))


def test_thresholds_come_from_the_checklist_and_the_environment(pipeline):
    d = read(pipeline, MATERIALS / "credit_pdf_003.pdf")
    n = hard_inquiries(d.tables["queries"], DAY)
    assert n > 6
    relaxed = Settings(credit_max_hard_inquiries_6m=n, credit_max_overdue_months_24m=24).checklist().thresholds("mortgage")
    assert relaxed.credit_max_hard_inquiries_6m == n
    assert "credit_many_inquiries" not in {c.code for c in validate(d, relaxed, DAY) if not c.ok}
    strict = Settings().checklist().thresholds("mortgage")
    assert "credit_many_inquiries" in {c.code for c in validate(d, strict, DAY) if not c.ok}
    later = DAY + dt.timedelta(days=400)  # the inquiries fall out of the window
    assert hard_inquiries(d.tables["queries"], later) == 0


def test_derived_figure_helpers():
    assert longest_run("NNN12NN1234NNN") == 4 and longest_run("N*C") == 0
    queries = [{"date": "2026-11-01", "reason": "贷款审批"}, {"date": "2026-05-28", "reason": "信用卡审批"},
               {"date": "2026-10-01", "reason": "贷后管理"}, {"date": "2026-05-30", "reason": "担保资格审查"}]  # fmt: skip
    assert hard_inquiries(queries, dt.date(2026, 11, 29)) == 2  # 05-29 onwards, hard reasons only


@pytest.mark.slow
def test_scanned_report_through_ocr(pipeline):
    d = read(pipeline, MATERIALS / "credit_scan_001.jpg")
    want = truth("credit_scan_001")
    got = [{k: a[k] for k in ("account_type", "balance", "status", "five_class", "repayment_24m")} for a in d.tables["accounts"]]
    assert got == [{k: a[k] for k in ("account_type", "balance", "status", "five_class", "repayment_24m")} for a in want["tables"]["accounts"]]
    for k in ("name", "id_number", "report_no", "report_time", "overdue_months_24m", "longest_overdue_run", "total_outstanding"):
        assert d.fields[k].value == want["fields"][k], k
    assert d.fields["name"].source == "ocr"


def test_checklists_ask_for_the_report():
    four = [front(), back(), certificate(), statement()]
    consumer = assess(four, "personal_consumer", DAY)
    assert consumer.status == "collected" and consumer.completeness == 100  # accepted, not asked for
    business = assess(four, "business", DAY)
    missing = {f.doc_type: f for f in business.supplement if f.code == "missing_document"}
    assert set(missing) == {"credit_report", "business_licence"}
    assert "个人信用报告" in missing["credit_report"].message_zh and "营业执照" in missing["business_licence"].message_zh
    assert "credit report" in missing["credit_report"].message_en


def test_check_command_lists_the_missing_materials(tmp_path):
    for name in ("income_pdf_001.pdf", "statement_pdf_001.pdf"):
        (tmp_path / name).write_bytes((ROOT / "samples" / "financial" / name).read_bytes())
    for loan_type, wanted in (("business", {"business_licence", "credit_report"}), ("mortgage", {"property_certificate", "credit_report"})):
        cmd = [sys.executable, "-m", "loandocs.cli", "check", str(tmp_path), "--loan-type", loan_type, "--application-date", "2026-11-29", "--json"]
        run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
        missing = {f["doc_type"] for f in out["supplement"] if f["code"] == "missing_document"}
        assert wanted <= missing, (loan_type, missing)
        assert {it["doc_type"] for it in out["checklist"] if it["required"] and not it["present"]} >= wanted


def test_review_page_shows_accounts_grid_and_queries(site, pipeline):  # noqa: F811 - the fixture imported above
    from .test_review_api import materials, seed_application
    from .test_web import _signed_in

    services, client, tokens = site
    report = read(pipeline, MATERIALS / "credit_pdf_002.pdf")  # an account with overdue months
    app = seed_application(services, materials() + [[report]], loan_type="mortgage")
    _signed_in(client, tokens["reviewer"])
    html = client.get(f"/review/applications/{app['id']}").text
    want = truth("credit_pdf_002")["tables"]
    rows = re.findall(r'<tr class="txn( broken)?" data-key="[^"]+-a(\d+)"', html)
    assert [int(i) for _, i in rows] == list(range(len(want["accounts"])))
    late = re.findall(r'<span class="cell late" title="逾期(\d)期"', html)
    assert len(late) == report.fields["overdue_months_24m"].value == sum(c.isdigit() for a in want["accounts"] for c in a["repayment_24m"])
    assert f"查询记录 {len(want['queries'])} 条" in html
    for label in ("近24个月逾期月数", "近6个月审批查询次数", "贷记卡使用率"):
        assert label in html, label
