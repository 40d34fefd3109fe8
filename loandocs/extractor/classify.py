"""Page classification from content: keyword evidence per document type.

Scores are sums of weights of the cue phrases found in the page text; the best type wins if it
reaches ``MIN_SCORE``. Cues are chosen to survive one misread character (several per type).
"""

from __future__ import annotations

import re

from loandocs.extractor.idnumber import ID_PATTERN
from loandocs.models import DocType

CUES: dict[str, list[tuple[str, float]]] = {
    "id_card_front": [("公民身份号码", 3), ("身份号码", 2), ("姓名", 1), ("性别", 1), ("民族", 1), ("出生", 1), ("住址", 1.5)],
    "id_card_back": [("签发机关", 3), ("有效期限", 3), ("居民身份证", 2), ("中华人民共和国", 1.5), ("长期", 0.5)],
    "income_certificate": [("收入证明", 4), ("兹证明", 2), ("月收入", 2), ("年收入", 2), ("工资", 1), ("特此证明", 2), ("职务", 1), ("入职", 1)],
    "bank_statement": [("交易明细", 3), ("流水", 3), ("对账单", 3), ("明细", 1), ("余额", 2), ("交易日期", 2), ("记账日期", 2), ("账号", 1), ("卡号", 1), ("户名", 1), ("借方", 1), ("贷方", 1), ("借/贷", 1), ("摘要", 1), ("交易类型", 1), ("对方户名", 1), ("对手信息", 1), ("币种", 1)],
}
MIN_SCORE = 3.0


def score_types(text: str) -> dict[str, float]:
    compact = re.sub(r"\s+", "", text)
    scores = {t: sum(w for cue, w in cues if cue in compact) for t, cues in CUES.items()}
    # An 18-character ID number printed alone is strong evidence of a card front; a
    # certificate also carries one, but then certificate cues dominate.
    if ID_PATTERN.search(compact.upper()):
        scores["id_card_front"] += 1.5
    return scores


def classify_text(text: str) -> tuple[DocType, float]:
    """The most likely type and a 0-1 confidence (share of the best score among all)."""
    scores = score_types(text)
    best = max(scores, key=scores.get)
    if scores[best] < MIN_SCORE:
        return "unknown", 0.0
    total = sum(scores.values())
    return best, round(scores[best] / total, 3)  # type: ignore[return-value]
