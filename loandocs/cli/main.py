"""The ``loandocs`` command line.

Exit status: 0 when the command ran (bad files are reported in the output, with their error
code, and the other files still run), 2 for usage errors, 3 when the OCR engine or the
configuration is unusable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from loandocs.cli import admin, check, keys, ops, webhooks, worker
from loandocs.cli.args import date_arg
from loandocs.errors import LoanDocsError

EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3



def _pipeline(args: argparse.Namespace):
    from loandocs.config import get_settings
    from loandocs.reader import Pipeline

    options = get_settings().pipeline_options()
    if getattr(args, "application_date", None):
        options.application_date = args.application_date
    return Pipeline(options)


def cmd_extract(args: argparse.Namespace) -> int:
    from loandocs.models import DocumentResult

    pipeline = _pipeline(args)
    results: list[DocumentResult] = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            results.append(DocumentResult(file=name, error={"code": "file_not_found", "message": f"no such file: {name}"}))
            continue
        results.extend(pipeline.extract(path.read_bytes(), path.name))
    if args.json:
        json.dump([r.model_dump(mode="json", exclude_none=True) for r in results], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(results)
    return 0


def _print_table(results) -> None:
    for r in results:
        print(f"== {r.file}  [{r.doc_type}]  pages {r.pages or '-'}")
        if r.error:
            print(f"   ERROR {r.error['code']}: {r.error['message']}")
            continue
        for name, f in r.fields.items():
            print(f"   {name:<18} {str(f.value):<30} conf {f.confidence:.2f}  {f.source}")
        if r.transactions is not None:
            print(f"   transactions       {len(r.transactions)} rows")
        for c in r.checks:
            if not c.ok:
                print(f"   ! {c.code} ({c.severity}): {c.message_zh}")
        print(f"   time {r.timings_ms.get('total', 0):.0f} ms")


def cmd_eval(args: argparse.Namespace) -> int:
    from loandocs.evaluation import evaluate

    def progress(i: int, n: int, name: str) -> None:
        print(f"\r[{i}/{n}] {name:<40}", end="", file=sys.stderr, flush=True)

    report = evaluate(args.dir, _pipeline(args), progress=None if args.quiet else progress)
    if not args.quiet:
        print(file=sys.stderr)
    data = report.to_dict()
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"files: {data['files']}   field accuracy: {data['field_accuracy']:.2%}   doc type accuracy: {data['doc_type_accuracy']:.2%}")
    print("by variant:")
    for k, v in data["by_variant"].items():
        print(f"  {k:<12} {v['accuracy']:.2%}  ({v['right']}/{v['total']})")
    for k, v in data.get("transaction_rows", {}).items():
        print(f"  transaction rows [{k}]: {v['accuracy']:.2%} ({v['right']}/{v['total']})")
    if data.get("edited_rows_flagged", {}).get("total"):
        e = data["edited_rows_flagged"]
        print(f"  edited statements flagged at the right row: {e['right']}/{e['total']}")
    for k, v in data.get("tables", {}).get("cells", {}).items():
        print(f"  table {k:<34} {v['accuracy']:.2%}  ({v['right']}/{v['total']})")
    print("by field:")
    for k, v in data["by_field"].items():
        print(f"  {k:<34} {v['accuracy']:.2%}  ({v['right']}/{v['total']})")
    if data["mismatches"]:
        print("mismatches:")
        for m in data["mismatches"]:
            print(f"  {m['file']}: {m['field']} expected {m['expected']!r} got {m['got']!r}")
    return 0


def cmd_samples(args: argparse.Namespace) -> int:
    from loandocs.samplegen import generate_idcard_samples
    from loandocs.samplegen.financial_set import generate_financial_samples

    out = Path(args.out)
    ids = generate_idcard_samples(out / "idcards", seed=args.seed, clean=True)
    print(f"wrote {len(ids)} ID card samples with ground truth to {out / 'idcards'}")
    # The mixed PDF embeds an ID page from the set just written.
    fin = generate_financial_samples(out / "financial", seed=args.seed, clean=True, idcard_dir=out / "idcards")
    print(f"wrote {len(fin)} income certificate and statement samples to {out / 'financial'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if args.demo:
        from loandocs.cli.demo import run

        return run(args.host, args.port, args.samples)
    from loandocs.cli.serve import serve

    return serve(args.host, args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loandocs", description="Read loan application documents offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("extract", help="run the extraction pipeline on files")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print a JSON array of documents")
    p.add_argument("--application-date", type=date_arg, help="date to check validity and age against (default today)")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("eval", help="compare extraction with ground truth in DIR")
    p.add_argument("dir")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("samples", help="generate the synthetic sample sets with ground truth")
    p.add_argument("--out", default="samples", help="writes OUT/idcards and OUT/financial")
    p.add_argument("--seed", type=int, default=20261129)
    p.set_defaults(func=cmd_samples)

    p = sub.add_parser("serve", help="run the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--demo", action="store_true", help="also run one worker and create a sample application (make run)")
    p.add_argument("--samples", default="samples", help="with --demo: where the sample documents are")
    p.set_defaults(func=cmd_serve)
    check.add_parser(sub)
    worker.add_parser(sub)
    ops.add_parsers(sub)
    admin.add_parser(sub)
    keys.add_parser(sub)
    webhooks.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except LoanDocsError as exc:
        print(f"loandocs: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except KeyboardInterrupt:
        return 130

