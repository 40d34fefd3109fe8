"""Check codes of DESIGN.md with their severity and applicant-facing messages (zh and en).

Messages tell the applicant what to do, not only what is wrong.
"""

from __future__ import annotations

from loandocs.models import Check, Severity

CATALOG: dict[str, tuple[Severity, str, str]] = {
    "missing_document": ("supplement", "缺少材料：{material}，请上传。", "Missing material: {material}. Please upload it."),
    "wrong_document_type": (
        "supplement",
        "无法识别该文件为贷款所需材料（身份证、收入证明、银行流水、个人信用报告、营业执照或不动产权证书），请上传正确的材料。",
        "This file is not a loan material we know (ID card, income certificate, bank statement, credit report, business licence"
        " or property certificate). Please upload the right document.",
    ),
    "image_unreadable": (
        "supplement",
        "图片无法清晰识别（{reasons}），请在光线充足处将证件平放、完整拍摄后重新上传。",
        "The image cannot be read reliably ({reasons_en}). Please retake it flat, in good light, with the whole document in the frame.",
    ),
    "document_expired": (
        "supplement",
        "身份证已于{valid_until}过期，请上传有效期内的身份证。",
        "The ID card expired on {valid_until}. Please upload a valid ID card.",
    ),
    "id_checksum_invalid": (
        "supplement",
        "身份证号码校验位不正确，请核对后上传清晰的身份证人像面。",
        "The ID number's check digit is wrong. Please upload a clear photo of the ID card front.",
    ),
    "id_fields_inconsistent": (
        "supplement",
        "身份证上的{what_zh}与身份证号码不一致，请上传清晰的身份证人像面。",
        "The {what_en} on the ID card does not match the ID number. Please upload a clear photo of the ID card front.",
    ),
    "age_out_of_range": (
        "supplement",
        "申请人年龄（{age}岁）不在{min_age}至{max_age}岁的受理范围内。",
        "The applicant's age ({age}) is outside the accepted range of {min_age} to {max_age}.",
    ),
    "name_mismatch": ("supplement", "各材料上的姓名不一致，请核对后重新上传。", "Names differ between documents. Please check and re-upload."),
    "id_number_mismatch": (
        "supplement",
        "各材料上的身份证号码不一致，请核对后重新上传。",
        "ID numbers differ between documents. Please check and re-upload.",
    ),
    "certificate_stale": (
        "supplement",
        "收入证明开具于{issue_date}，已超过{days}天，请上传近期开具的收入证明。",
        "The income certificate was issued on {issue_date}, more than {days} days ago. Please upload a recent one.",
    ),
    "seal_missing": ("supplement", "收入证明未加盖单位公章，请上传盖章的收入证明。", "The income certificate has no company seal. Please upload a sealed one."),
    "statement_period_short": (
        "supplement",
        "银行流水仅覆盖{days}天，请上传最近6个月的银行流水。",
        "The bank statement covers only {days} days. Please upload the last 6 months.",
    ),
    "statement_stale": (
        "supplement",
        "银行流水截止于{period_end}，请上传截至近30天内的银行流水。",
        "The bank statement ends on {period_end}. Please upload one that ends within the last 30 days.",
    ),
    "balance_inconsistent": (
        "review",
        "流水余额与交易金额不连贯（{where}），请人工核查。",
        "Running balance does not follow from the amounts ({where}); a reviewer must check.",
    ),
    "income_mismatch": (
        "review",
        "收入证明月收入与流水工资差异超过30%，请人工核查。",
        "Certified monthly income differs from statement salary by more than 30%; a reviewer must check.",
    ),
    "duplicate_document": ("review", "该材料重复上传，请人工核查。", "The same document was uploaded again; a reviewer must check."),
    "table_not_found": (
        "supplement",
        "未能识别流水中的交易明细表，请上传银行导出的完整流水（含交易明细）。",
        "No transaction table was recognised in the statement. Please upload the bank's full statement with its transaction list.",
    ),
    # A born-digital document that simply does not show a field: nothing to retake, so the
    # reviewer decides (DESIGN: image_unreadable only when reading actually suffered).
    "field_missing": (
        "review",
        "材料上未找到以下信息，请人工核对：{fields}。",
        "The document does not show these fields; a reviewer must check: {fields}.",
    ),
    "low_confidence": (
        "review",
        "以下字段识别置信度较低，请人工核对：{fields}。",
        "These fields were read with low confidence and need checking: {fields}.",
    ),
    "credit_overdue": (
        "review",
        "个人信用报告显示近24个月有{months}个月逾期（最长连续{run}个月），请人工核查。",
        "The credit report shows {months} overdue months in the last 24 (longest run {run}); a reviewer must check.",
    ),
    "credit_bad_class": (
        "review",
        "个人信用报告中有{count}个账户的五级分类或状态不为正常（{accounts}），请人工核查。",
        "{count} account(s) on the credit report are not classed 正常 (normal) ({accounts}); a reviewer must check.",
    ),
    "credit_many_inquiries": (
        "review",
        "申请日前6个月内有{count}次贷款、信用卡或担保审批查询，超过{limit}次，请人工核查。",
        "{count} loan, card or guarantee approval inquiries in the 6 months before the application (more than {limit}); a reviewer must check.",
    ),
    "credit_report_stale": (
        "supplement",
        "个人信用报告查询于{report_time}，已超过{days}天，请上传近期查询的个人信用报告。",
        "The credit report was pulled on {report_time}, more than {days} days ago. Please upload a recent one.",
    ),
    "uscc_invalid": (
        "supplement",
        "营业执照的统一社会信用代码校验不通过，请上传清晰的营业执照。",
        "The business licence's unified social credit code fails its check character. Please upload a clear photo of the licence.",
    ),
    "licence_expired": (
        "supplement",
        "营业执照营业期限已于{term_until}届满，请上传有效的营业执照。",
        "The business licence's term ended on {term_until}. Please upload a valid licence.",
    ),
    "employer_mismatch": (
        "review",
        "营业执照企业名称与收入证明工作单位不一致，请人工核查。",
        "The company on the business licence differs from the employer on the income certificate; a reviewer must check.",
    ),
    "holder_mismatch": (
        "review",
        "不动产权证书的权利人中没有申请人，请人工核查。",
        "The applicant is not among the holders (权利人) on the property certificate; a reviewer must check.",
    ),
}


# Short Chinese names of the codes, for the reviewer's pages (the code itself shows on hover):
# every CATALOG code, plus the two reasons only a reviewer gives (workflow/review.py).
NAMES_ZH: dict[str, str] = {
    "missing_document": "缺少材料",
    "wrong_document_type": "非贷款材料",
    "image_unreadable": "图片无法识别",
    "document_expired": "身份证已过期",
    "id_checksum_invalid": "身份证号校验位错误",
    "id_fields_inconsistent": "身份证信息与号码不符",
    "age_out_of_range": "年龄不在受理范围",
    "name_mismatch": "姓名不一致",
    "id_number_mismatch": "身份证号不一致",
    "certificate_stale": "收入证明已过时",
    "seal_missing": "收入证明未盖章",
    "statement_period_short": "流水时间不足",
    "statement_stale": "流水截止过早",
    "balance_inconsistent": "流水余额不连贯",
    "income_mismatch": "收入与流水不符",
    "duplicate_document": "重复上传",
    "table_not_found": "未识别到交易明细",
    "field_missing": "材料缺少信息",
    "low_confidence": "识别置信度低",
    "credit_overdue": "征信有逾期",
    "credit_bad_class": "征信账户非正常",
    "credit_many_inquiries": "征信查询过多",
    "credit_report_stale": "征信报告已过时",
    "uscc_invalid": "信用代码校验错误",
    "licence_expired": "营业执照已到期",
    "employer_mismatch": "执照与工作单位不符",
    "holder_mismatch": "权利人非申请人",
    "resubmit": "需重新上传",
    "reviewer_note": "审核员说明",
}


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def make_check(code: str, ok: bool, fields: list[str] | None = None, **params: object) -> Check:
    severity, zh, en = CATALOG[code]
    p = _Default({k: v for k, v in params.items()})
    if fields and "fields" not in p:
        p["fields"] = ", ".join(fields)
    return Check(
        code=code,
        ok=ok,
        severity=severity,
        message_zh=zh.format_map(p) if not ok else "",
        message_en=en.format_map(p) if not ok else "",
        fields=fields or [],
    )


QUALITY_ZH = {
    "blurry": "模糊",
    "glare": "反光",
    "too_dark": "过暗",
    "too_small": "分辨率过低",
    "card_cut_off": "证件不完整",
    "fields_unreadable": "关键信息无法识别",
}
QUALITY_EN = {
    "blurry": "blurry",
    "glare": "glare",
    "too_dark": "too dark",
    "too_small": "too small",
    "card_cut_off": "card cut off",
    "fields_unreadable": "key fields unreadable",
}
