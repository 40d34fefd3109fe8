"""Application-level assessment on hand-built documents (no OCR), plus one end-to-end run of
``loandocs check`` on sample files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loandocs.errors import ConfigError
from loandocs.extractor.options import PipelineOptions
from loandocs.models import DocumentResult, ExtractedField
from loandocs.rules.assessment import assess, load_checklist, options_for
from loandocs.rules.catalog import make_check

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 11, 29)
MATERIALS = {"id_card_front", "id_card_back", "income_certificate", "bank_statement"}


def doc(doc_type: str, file: str | None = None, checks=(), **fields) -> DocumentResult:
    return DocumentResult(
        file=file or f"{doc_type}.jpg",
        doc_type=doc_type,
        pages=[1],
        fields={k: ExtractedField(value=v, confidence=0.99) for k, v in fields.items()},
        checks=list(checks),
    )


def front(**kw):
    return doc("id_card_front", **{"name": "张伟", "id_number": "110101199003074514", **kw})


def back(**kw):
    return doc("id_card_back", **{"issuing_authority": "北京市公安局东城分局", "valid_from": "2020-01-01", "valid_until": "2040-01-01", **kw})


def certificate(**kw):
    fields = {"employee_name": "张伟", "id_number": "110101199003074514", "employer": "某某公司", "monthly_income": 20000.0, "issue_date": "2026-11-01"}
    return doc("income_certificate", **{**fields, **kw})


def statement(**kw):
    fields = {"account_holder": "张 伟", "account_number": "6222020200001234567", "period_start": "2026-05-01", "period_end": "2026-10-31", "monthly_salary_estimate": 16000.0}
    return doc("bank_statement", **{**fields, **kw})


def full_set():
    return [front(), back(), certificate(), statement()]


def codes(findings):
    return [f.code for f in findings]


def test_complete_consistent_set_is_collected():
    a = assess(full_set(), "personal_consumer", DAY)
    assert a.status == "collected"
    assert a.completeness == 100
    assert a.supplement == [] and a.review == []
    # The four required materials, then the credit report a consumer loan accepts but does
    # not ask for (issue 14): absent, and no reason to supplement.
    assert [it.present and it.ok for it in a.checklist] == [True] * 4 + [False]
    assert [it.document_indexes for it in a.checklist] == [[0], [1], [2], [3], []]
    assert [it.required for it in a.checklist] == [True] * 4 + [False]


def test_missing_statement():
    a = assess(full_set()[:3], "personal_consumer", DAY)
    assert a.status == "needs_supplement"
    assert a.completeness == 75  # equal weights
    assert codes(a.supplement) == ["missing_document"]
    missing = a.supplement[0]
    assert missing.doc_type == "bank_statement"
    assert "银行流水" in missing.message_zh and "bank statement" in missing.message_en
    item = a.checklist[3]
    assert not item.present and not item.ok and item.failed_codes == ["missing_document"]


def test_missing_everything():
    a = assess([], "personal_consumer", DAY)
    assert a.completeness == 0
    names = " ".join(f.message_zh for f in a.supplement)
    for name in ("身份证人像面", "身份证国徽面", "收入证明", "银行流水"):
        assert name in names


def test_expired_id_goes_to_supplement():
    expired = make_check("document_expired", False, ["valid_until"], valid_until="2025-01-01")
    docs = full_set()
    docs[1] = back(valid_until="2025-01-01", checks=[expired])
    a = assess(docs, "personal_consumer", DAY)
    assert a.status == "needs_supplement"
    assert [(f.code, f.doc_type) for f in a.supplement] == [("document_expired", "id_card_back")]
    assert "2025-01-01" in a.supplement[0].message_zh
    assert a.completeness == 75
    assert a.checklist[1].failed_codes == ["document_expired"]


def test_review_severity_check_does_not_block():
    low = make_check("low_confidence", False, ["address"])
    docs = full_set()
    docs[0] = front(checks=[low])
    a = assess(docs, "personal_consumer", DAY)
    assert a.status == "collected" and a.completeness == 100
    assert [(f.code, f.doc_type) for f in a.review] == [("low_confidence", "id_card_front")]


def test_name_mismatch():
    docs = full_set()
    docs[3] = statement(account_holder="李娜")
    a = assess(docs, "personal_consumer", DAY)
    assert a.status == "needs_supplement"
    # The ID card is the reference; the document that differs is the one to redo.
    assert [(f.code, f.doc_type) for f in a.supplement] == [("name_mismatch", "bank_statement")]
    assert a.completeness == 75


def test_names_compared_without_spaces():
    docs = full_set()
    docs[2] = certificate(employee_name="张\u3000伟")  # full-width space
    assert assess(docs, "personal_consumer", DAY).status == "collected"


def test_id_number_mismatch():
    docs = full_set()
    docs[2] = certificate(id_number="110101199003071234")
    a = assess(docs, "personal_consumer", DAY)
    assert [(f.code, f.doc_type) for f in a.supplement] == [("id_number_mismatch", "income_certificate")]


def test_income_mismatch_goes_to_review():
    docs = full_set()
    docs[3] = statement(monthly_salary_estimate=9000.0)  # 55% below the certified 20000
    a = assess(docs, "personal_consumer", DAY)
    assert a.status == "collected" and a.completeness == 100
    assert [(f.code, f.doc_type) for f in a.review] == [("income_mismatch", "income_certificate")]
    # Net pay 20% below the certified gross is normal and passes.
    docs[3] = statement(monthly_salary_estimate=16000.0)
    assert assess(docs, "personal_consumer", DAY).review == []


def test_duplicate_by_key_fields_and_by_hash():
    docs = full_set() + [statement()]
    a = assess(docs, "personal_consumer", DAY)
    assert [(f.code, f.doc_type) for f in a.review] == [("duplicate_document", "bank_statement")]
    assert a.status == "collected"
    assert a.checklist[3].document_indexes == [3, 4]

    # Same bytes uploaded twice, key fields unreadable: the hash finds it.
    docs = full_set() + [doc("income_certificate", file="again.jpg", employee_name="张伟")]
    hashes = ["a", "a", "c", "d", "c"]  # the combo scan gives two documents with one hash
    a = assess(docs, "personal_consumer", DAY, file_hashes=hashes)
    assert [(f.code, f.doc_type) for f in a.review] == [("duplicate_document", "income_certificate")]


def test_reupload_supersedes_failed_document():
    stale = make_check("statement_stale", False, ["period_end"], period_end="2026-06-30")
    docs = full_set() + [statement(period_end="2026-06-30", checks=[stale])]
    a = assess(docs, "personal_consumer", DAY)
    assert a.status == "collected" and a.completeness == 100
    assert codes(a.review) == ["statement_stale"]


def test_wrong_document_type_and_unreadable_file():
    docs = full_set()[:3] + [doc("unknown", checks=[make_check("wrong_document_type", False)])]
    docs.append(DocumentResult(file="bad.pdf", error={"code": "corrupt_file", "message": "x"}))
    a = assess(docs, "personal_consumer", DAY)
    assert sorted((f.code, f.doc_type) for f in a.supplement) == [("missing_document", "bank_statement"), ("wrong_document_type", "unknown")]
    assert len(a.documents) == 5


def test_supplement_entries_are_deduplicated():
    unreadable = make_check("wrong_document_type", False)
    docs = [doc("unknown", file=f"{i}.jpg", checks=[unreadable]) for i in range(3)]
    a = assess(docs, "personal_consumer", DAY)
    assert codes(a.supplement).count("wrong_document_type") == 1


def test_revalidate_uses_loan_type_thresholds():
    # A 184-day statement passes for a consumer loan but not for a business loan (12 months).
    a = assess(full_set(), "business", DAY, revalidate=True)
    short = [f for f in a.supplement if f.code == "statement_period_short"]
    assert short and "12个月" in short[0].message_zh and "12 months" in short[0].message_en
    consumer = assess(full_set(), "personal_consumer", DAY, revalidate=True)
    assert "statement_period_short" not in codes(consumer.supplement)


def test_options_for_applies_thresholds():
    base = PipelineOptions(application_date=DAY)
    mortgage = options_for("mortgage", base)
    business = options_for("business", base)
    assert mortgage.thresholds.certificate_max_age_days == 60 and mortgage.application_date == DAY
    assert business.thresholds.statement_min_days > 350
    assert options_for("personal_consumer", base).thresholds.statement_min_days == 175


def test_unknown_loan_type():
    with pytest.raises(ConfigError) as exc:
        assess(full_set(), "car_loan", DAY)
    assert exc.value.code == "unknown_loan_type"
    with pytest.raises(ConfigError) as exc:
        options_for("car_loan", PipelineOptions())
    assert exc.value.code == "unknown_loan_type"


# The checklist of issue 14: every loan type requires the four materials; the credit report is
# accepted for a consumer loan and required for the other two, which each add their own.
REQUIRED = {
    "personal_consumer": MATERIALS,
    "mortgage": MATERIALS | {"credit_report", "property_certificate"},
    "business": MATERIALS | {"credit_report", "business_licence"},
}


def test_checklist_lists_the_materials_of_every_loan_type():
    cl = load_checklist()
    assert set(cl.loan_types) == {"personal_consumer", "mortgage", "business"}
    for key, lt in cl.loan_types.items():
        assert {cl.materials[r.material].doc_type for r in lt.materials if r.required} == REQUIRED[key], key
        accepted = {cl.materials[r.material].doc_type for r in lt.materials}
        assert accepted == REQUIRED[key] | {"credit_report"}, key
        t = cl.thresholds(key)
        assert t.income_mismatch_ratio == pytest.approx(0.30)
        assert t.min_age == 18 and t.max_age == 65


@pytest.mark.parametrize(
    "text",
    [
        "materials: [1, 2\n",  # not YAML
        "- just a list\n",
        "materials: {}\nloan_types: {x: {name_zh: a, name_en: b, materials: [{material: nope, weight: 1}]}}\n",
        "materials: {}\nloan_types: {x: {name_zh: a, name_en: b, materials: [], thresholds: {statment_min_days: 1}}}\n",
    ],
)
def test_bad_checklist_file(tmp_path, text):
    path = tmp_path / "checklist.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_checklist(path)
    assert exc.value.code == "invalid_configuration"
    assert str(path) in exc.value.message
    with pytest.raises(ConfigError):
        load_checklist(tmp_path / "absent.yaml")


@pytest.mark.slow
def test_check_command_end_to_end(tmp_path):
    shutil.copy(ROOT / "samples/idcards/combo_scan_001.jpg", tmp_path)
    shutil.copy(ROOT / "samples/financial/income_pdf_001.pdf", tmp_path)
    shutil.copy(ROOT / "samples/financial/statement_pdf_001.pdf", tmp_path)
    (tmp_path / "income_pdf_001.json").write_text("{}")  # ground truth is skipped
    cmd = [sys.executable, "-m", "loandocs.cli", "check", str(tmp_path), "--loan-type", "personal_consumer", "--application-date", "2026-11-29", "--json"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out) == {"documents", "checklist", "completeness", "status", "supplement", "review"}
    assert out["status"] in ("collected", "needs_supplement")
    required = [it for it in out["checklist"] if it["required"]]
    assert len(required) == 4 and all(it["present"] for it in required)
    assert [it["doc_type"] for it in out["checklist"] if not it["required"]] == ["credit_report"]
    assert {d["doc_type"] for d in out["documents"]} == MATERIALS
    # The samples are of three different synthetic people: the names disagree.
    assert "name_mismatch" in [f["code"] for f in out["supplement"]]
    assert out["status"] == "needs_supplement"
    assert 0 <= out["completeness"] <= 100

    bad = subprocess.run(cmd[:5] + ["--loan-type", "car_loan"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2 and "unknown_loan_type" in bad.stderr
