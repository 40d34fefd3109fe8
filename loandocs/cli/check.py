"""``loandocs check DIR --loan-type T [--application-date D] [--json]``: the files in DIR are
one application; extract them in-process and assess them against the loan type's checklist.

Kept out of ``cli.py`` so that module only has to register it. It must not import
``loandocs.cli`` (which imports this module, and runs as ``__main__`` under ``python -m``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

from loandocs.cli.args import date_arg

EXIT_USAGE = 2
JSON_KEYS = ("checklist", "completeness", "status", "supplement", "review")



def add_parser(sub) -> None:
    p = sub.add_parser("check", help="assess the files in DIR as one application against a loan type's checklist")
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--loan-type", required=True, help="a loan type of the checklist (personal_consumer, mortgage, business)")
    p.add_argument("--application-date", type=date_arg, help="date to check validity, age and freshness against (default today)")
    p.add_argument("--json", action="store_true", help="print {documents, checklist, completeness, status, supplement, review}")
    p.set_defaults(func=cmd_check)


def application_files(folder: Path) -> list[Path]:
    # Dotfiles are editor/OS litter; *.json are the sample sets' ground truth, never uploads.
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() != ".json")


def cmd_check(args: argparse.Namespace) -> int:
    from loandocs.config import get_settings
    from loandocs.errors import ConfigError
    from loandocs.rules.assessment import assess, options_for

    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"loandocs check: not a folder: {args.dir}", file=sys.stderr)
        return EXIT_USAGE
    checklist = get_settings().checklist()
    try:
        checklist.loan_type(args.loan_type)  # before loading the OCR engine: fail fast
    except ConfigError as exc:
        print(f"loandocs check: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    application_date = args.application_date or dt.date.today()

    from loandocs.reader import Pipeline

    base = get_settings().pipeline_options().model_copy(update={"application_date": application_date})
    pipeline = Pipeline(options_for(args.loan_type, base, checklist))
    documents, hashes = [], []
    for path in application_files(folder):
        data = path.read_bytes()
        found = pipeline.extract(data, path.name)
        documents.extend(found)
        hashes.extend([hashlib.sha256(data).hexdigest()] * len(found))
    result = assess(documents, args.loan_type, application_date, checklist, file_hashes=hashes)

    if args.json:
        out = {"documents": [d.model_dump(mode="json", exclude_none=True) for d in result.documents]}
        out.update(result.model_dump(mode="json", include=set(JSON_KEYS)))
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_summary(result, checklist.loan_type(args.loan_type).name_zh)
    return 0


def _print_summary(result, loan_name: str) -> None:
    status_zh = {"collected": "采集完成", "needs_supplement": "待补充"}[result.status]
    print(f"{loan_name} ({result.loan_type})  application date {result.application_date}")
    print(f"status: {result.status} {status_zh}   completeness: {result.completeness}/100")
    print("documents:")
    for i, d in enumerate(result.documents):
        extra = f"  ERROR {d.error.get('code')}: {d.error.get('message')}" if d.error else ""
        print(f"  [{i}] {d.file:<32} {d.doc_type:<20} pages {d.pages or '-'}{extra}")
    print("checklist:")
    for it in result.checklist:
        mark = "ok " if it.ok else ("!  " if it.present else "-  ")
        codes = f"  ({', '.join(it.failed_codes)})" if it.failed_codes else ""
        print(f"  {mark}{it.name_zh:<8} {it.doc_type:<20} weight {it.weight:g}  docs {it.document_indexes or '-'}{codes}")
    for title, findings in (("supplement (applicant)", result.supplement), ("review (reviewer)", result.review)):
        if findings:
            print(f"{title}:")
            for f in findings:
                print(f"  - {f.code} [{f.doc_type}] {f.message_zh}")
