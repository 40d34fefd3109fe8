"""Held-out accuracy for income certificates and statements: a fresh seed (the tests use the
checked-in set only), with more scans and photos than the sample set.

    .venv/bin/python benchmarks/stress_financial.py [--seed 555] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

from loandocs.evaluation import evaluate
from loandocs.reader import Pipeline, PipelineOptions
from loandocs.samplegen.financial_set import generate_financial_samples

COUNTS = {"income_pdf": 4, "income_scan": 4, "income_scan_gray": 2, "income_photo": 3, "statement_pdf": 3,
          "statement_scan_pdf": 2, "statement_scan": 1, "statement_edited": 1, "mixed": 0}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=555)
    ap.add_argument("--keep")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        generate_financial_samples(out, seed=args.seed, counts=COUNTS)
        report = evaluate(out, Pipeline(PipelineOptions(application_date=dt.date(2026, 11, 29))))
    d = report.to_dict()
    cert = [v for k, v in d["by_field"].items() if k.startswith("income_certificate.")]
    stmt = [v for k, v in d["by_field"].items() if k.startswith("bank_statement.")]
    print(f"held-out financial set: {d['files']} files, seed {args.seed}")
    print(f"certificate fields: {sum(v['right'] for v in cert) / sum(v['total'] for v in cert):.2%}")
    print(f"statement header fields: {sum(v['right'] for v in stmt) / sum(v['total'] for v in stmt):.2%}")
    for k, v in d["transaction_rows"].items():
        print(f"transaction rows [{k}]: {v['accuracy']:.2%} ({v['right']}/{v['total']})")
    print(f"edited statements flagged at the right row: {d['edited_rows_flagged']}")
    for m in d["mismatches"]:
        if "transactions[" not in m["field"]:
            print(f"  {m['file']}: {m['field']} expected {m['expected']!r} got {m['got']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
