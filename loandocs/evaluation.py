"""``loandocs eval DIR``: field-level exact-match accuracy against ground-truth JSON.

Each ``NAME.json`` next to an image names the file, its ``variant`` (scan, photo, rotated,
...) and the expected ``documents`` with their ``doc_type`` and ``fields``. An expected
document is matched to the extracted document of the same type (in order); a missing document
counts every expected field as wrong.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from loandocs.models import DocumentResult
from loandocs.reader import Pipeline


@dataclass
class Tally:
    right: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 1.0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1


@dataclass
class EvalReport:
    by_variant: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_field: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    doc_types: Tally = field(default_factory=Tally)
    tx_rows: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))  # by variant
    edited_found: Tally = field(default_factory=Tally)
    # Statement layout zoo (samples/statements): keyed "tuned|held_out:variant" and by family.
    zoo_tx_rows: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    zoo_fields: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    family_tx_rows: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    family_edited: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    # Rows of a document's tables (a credit report's accounts), compared on the keys that
    # matter for a decision: by "table.key" and by variant.
    table_cells: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    table_rows: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    errors: list[dict] = field(default_factory=list)  # every mismatch, for reading
    files: int = 0
    # Calibration: fields returned, by confidence bucket -> share right (DESIGN: >= 99.5% of
    # the fields returned with confidence >= 0.9 must be right). Absent fields are not counted.
    calibration: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def to_dict(self) -> dict:
        def t(d: dict[str, Tally]) -> dict:
            return {k: {"accuracy": round(v.accuracy, 4), "right": v.right, "total": v.total} for k, v in sorted(d.items())}

        overall = Tally(sum(v.right for v in self.by_field.values()), sum(v.total for v in self.by_field.values()))
        return {
            "files": self.files,
            "field_accuracy": round(overall.accuracy, 4),
            "by_variant": t(self.by_variant),
            "by_field": t(self.by_field),
            "doc_type_accuracy": round(self.doc_types.accuracy, 4),
            "transaction_rows": t(self.tx_rows),
            "edited_rows_flagged": {"right": self.edited_found.right, "total": self.edited_found.total},
            **({"statement_zoo": {"transaction_rows": t(self.zoo_tx_rows), "header_fields": t(self.zoo_fields),
                                  "rows_by_family": t(self.family_tx_rows),
                                  "edited_by_family": t(self.family_edited)}} if self.zoo_tx_rows else {}),
            **({"tables": {"cells": t(self.table_cells), "rows_by_variant": t(self.table_rows)}} if self.table_cells else {}),
            "calibration": t(self.calibration),
            "mismatches": self.errors,
        }


def normalise(value: object) -> object:
    if isinstance(value, str):
        return value.replace(" ", "").strip()
    if isinstance(value, float):
        return round(value, 2)
    return value


CONFIDENCE_BUCKETS = (0.5, 0.8, 0.9, 0.95, 0.99)


def confidence_bucket(c: float) -> str:
    """'0.90-0.95' style bucket names that sort in order."""
    lo = max([0.0, *(b for b in CONFIDENCE_BUCKETS if c >= b)])
    hi = min([1.0, *(b for b in CONFIDENCE_BUCKETS if b > c)])
    return f"{lo:.2f}-{hi:.2f}"


def compare(truth: dict, docs: list[DocumentResult], report: EvalReport) -> None:
    variant = truth.get("variant", "default")
    remaining = list(docs)
    for expected in truth.get("documents", []):
        match = next((d for d in remaining if d.doc_type == expected["doc_type"]), None)
        report.doc_types.add(match is not None)
        if match is not None:
            remaining.remove(match)
        if "transactions" in expected:
            _compare_transactions(truth, expected, match, report)
        if "tables" in expected:
            _compare_tables(truth, expected, match, report)
        for name, want in expected.get("fields", {}).items():
            got = match.fields[name].value if match is not None and name in match.fields else None
            ok = normalise(got) == normalise(want)
            if got is not None and match is not None:
                report.calibration[confidence_bucket(match.fields[name].confidence)].add(ok)
            report.by_variant[variant].add(ok)
            report.by_field[f"{expected['doc_type']}.{name}"].add(ok)
            if "family" in truth:
                report.zoo_fields[f"{_zoo_group(truth)}:{variant}"].add(ok)
            if not ok:
                report.errors.append({"file": truth["file"], "field": f"{expected['doc_type']}.{name}", "expected": want, "got": got})


# The keys of each table's rows that are scored (the rest is shown, not scored).
TABLE_KEYS = {"accounts": ("account_type", "balance", "status", "five_class")}


def _compare_tables(truth: dict, expected: dict, match: DocumentResult | None, report: EvalReport) -> None:
    """Rows in order (an account missed counts all its keys wrong); a row is right when every
    scored key is."""
    variant = truth.get("variant", "default")
    got_tables = (match.tables or {}) if match is not None else {}
    for table, keys in TABLE_KEYS.items():
        want_rows = expected["tables"].get(table, [])
        got_rows = got_tables.get(table, [])
        for i, want in enumerate(want_rows):
            got = got_rows[i] if i < len(got_rows) else {}
            row_ok = True
            for k in keys:
                ok = normalise(got.get(k)) == normalise(want.get(k))
                row_ok &= ok
                report.table_cells[f"{expected['doc_type']}.{table}.{k}"].add(ok)
                if not ok:
                    report.errors.append({"file": truth["file"], "field": f"{table}[{i}].{k}", "expected": want.get(k), "got": got.get(k)})
            report.table_rows[f"{table}:{variant}"].add(row_ok)
        for _ in range(max(0, len(got_rows) - len(want_rows))):
            report.table_rows[f"{table}:{variant}"].add(False)  # rows we invented


def _zoo_group(truth: dict) -> str:
    return "held_out" if truth.get("held_out") else "tuned"


def _tx_key(t: dict) -> tuple:
    return (t.get("date"), normalise(t.get("amount")), normalise(t.get("balance")))


def _compare_transactions(truth: dict, expected: dict, match: DocumentResult | None, report: EvalReport) -> None:
    """A row is right when its date, amount and balance are all exact; rows are matched as a
    multiset so one missed row does not shift every row after it."""
    variant = truth.get("variant", "default")
    got = [_tx_key(t.model_dump()) for t in (match.transactions or [])] if match is not None else []
    pool: dict[tuple, int] = defaultdict(int)
    for k in got:
        pool[k] += 1
    for i, t in enumerate(expected["transactions"]):
        k = _tx_key(t)
        ok = pool[k] > 0
        if ok:
            pool[k] -= 1
        report.tx_rows[variant].add(ok)
        _zoo_add(truth, report, ok)
        if not ok and len(report.errors) < 500:
            report.errors.append({"file": truth["file"], "field": f"transactions[{i}]", "expected": list(k), "got": None})
    extra = sum(v for v in pool.values() if v > 0)
    for _ in range(extra):
        report.tx_rows[variant].add(False)  # rows we invented count against us too
        _zoo_add(truth, report, False)
    if expected.get("edited_row") is not None:
        flagged = set()
        if match is not None:
            for c in match.checks:
                if c.code == "balance_inconsistent" and not c.ok:
                    flagged = {f for f in c.fields if f.startswith("transactions[")}
        report.edited_found.add(f"transactions[{expected['edited_row']}]" in flagged)
        if "family" in truth:
            report.family_edited[truth["family"]].add(f"transactions[{expected['edited_row']}]" in flagged)


def _zoo_add(truth: dict, report: EvalReport, ok: bool) -> None:
    if "family" in truth:
        variant = truth.get("variant", "default")
        report.zoo_tx_rows[f"{_zoo_group(truth)}:{variant}"].add(ok)
        report.family_tx_rows[f"{truth['family']}:{variant}"].add(ok)


def evaluate(directory: str | Path, pipeline: Pipeline | None = None, progress=None) -> EvalReport:
    directory = Path(directory)
    pipeline = pipeline or Pipeline()
    report = EvalReport()
    truths = sorted(p for p in directory.glob("*.json") if p.name != "manifest.json")
    for i, gt_path in enumerate(truths):
        truth = json.loads(gt_path.read_text(encoding="utf-8"))
        if "file" not in truth:
            continue
        image = directory / truth["file"]
        if not image.is_file():
            continue
        docs = pipeline.extract(image.read_bytes(), image.name)
        compare(truth, docs, report)
        report.files += 1
        if progress:
            progress(i + 1, len(truths), truth["file"])
    return report
