"""``loandocs keys ...``: the encryption keys of files and personal-data columns.

``init`` creates the key file, ``generate`` prints a key for LOANDOCS_ENCRYPTION_KEY, ``status``
shows what each key protects, ``rotate`` adds a primary key and re-encrypts everything while
the API and workers keep running, ``retire`` drops a key nothing uses any more. Rotation and
retirement are audited (key ids and counts only).
"""

from __future__ import annotations

import argparse
import json
import sys

from loandocs.cli.admin import _actor


def add_parser(sub) -> None:
    p = sub.add_parser("keys", help="encryption keys: init, generate, status, rotate, retire")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    c = ksub.add_parser("init", help="create the key file (mode 0600) if it does not exist")
    c.set_defaults(func=cmd_init)
    c = ksub.add_parser("generate", help="print a new random key (base64) for LOANDOCS_ENCRYPTION_KEY")
    c.set_defaults(func=cmd_generate)
    c = ksub.add_parser("status", help="key ids, and how many values and files each one protects")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_status)
    c = ksub.add_parser("rotate", help="add a new primary key and re-encrypt everything with it, online")
    c.add_argument("--resume", action="store_true",
                   help="add no key: re-encrypt what is not yet under the primary key (after an interruption, "
                        "or with keys from LOANDOCS_ENCRYPTION_KEY)")
    c.add_argument("--batch", type=int, default=200, help="rows per committed transaction")
    c.set_defaults(func=cmd_rotate)
    c = ksub.add_parser("retire", help="remove a key from the key file once nothing uses it")
    c.add_argument("key_id", metavar="KEYID")
    c.set_defaults(func=cmd_retire)


def cmd_init(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import crypto

    settings = get_services().settings  # no database needed: settings only
    if settings.encryption_key is not None:
        print("keys come from LOANDOCS_ENCRYPTION_KEY; no key file is used", file=sys.stderr)
        return 0
    path = settings.encryption_key_file_or_default()
    existed = crypto.KeyFile(path).signature() is not None
    keyring = crypto.load_keyring(None, path)
    print(f"{'key file exists' if existed else 'created key file'} {path} (mode 0600), primary key {keyring.primary_id}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from loandocs.store import crypto

    key = crypto.new_key()
    print(crypto.encode_key(key))
    print(f"key id {crypto.key_id(key)}", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import rekey

    services = get_services()
    keyring = services.keyring
    inv = rekey.inventory(services.engine, services.files)
    labels = list(keyring.key_ids) + sorted((set(inv.rows) | set(inv.files)) - set(keyring.key_ids))
    report = {
        "source": keyring.source,
        "primary": keyring.primary_id,
        "keys": [{"key_id": k, "primary": k == keyring.primary_id, "in_keyring": k in keyring.key_ids,
                  "values": inv.rows[k], "files": inv.files[k]} for k in labels],
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0
    print(f"keys from {report['source']}")
    for k in report["keys"]:
        note = "primary" if k["primary"] else ("in keyring" if k["in_keyring"] else
                                               "in clear" if k["key_id"] == rekey.PLAINTEXT else "MISSING KEY")
        print(f"{k['key_id']:<10} {note:<11} {k['values']:>9} values {k['files']:>8} files")
    return 0


def cmd_rotate(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access, rekey

    services = get_services()
    keyring, engine = services.keyring, services.engine
    before = rekey.inventory(engine, services.files)
    todo = sum(before.rows.values()) + sum(before.files.values())
    seen = {"n": 0}

    def progress(what: str, n: int) -> None:
        seen["n"] += n
        print(f"  {what}: {seen['n']} of at most {todo} re-encrypted", file=sys.stderr)

    if not args.resume:
        print("adding a new primary key; the old keys stay readable until `loandocs keys retire`", file=sys.stderr)
    result = rekey.rotate(engine, services.files, keyring, new_key=not args.resume, batch=args.batch,
                          progress=progress)
    after = rekey.inventory(engine, services.files)
    left = after.outside(keyring.primary_id)
    with services.sessions() as session:
        access.audit(session, actor=_actor(), role="admin", action="key_rotate", object_type="key",
                     object_id=keyring.primary_id,
                     detail={"values": result.rows, "files": result.files, "passes": result.passes, "left": left})
        session.commit()
    print(f"re-encrypted {result.rows} values and {result.files} files under key {keyring.primary_id} "
          f"in {result.passes} pass(es); {left} left under other keys")
    return 0 if left == 0 else 1


def cmd_retire(args: argparse.Namespace) -> int:
    from loandocs.services import get_services
    from loandocs.store import access, rekey

    services = get_services()
    rekey.retire(services.engine, services.files, services.keyring, args.key_id)
    with services.sessions() as session:
        access.audit(session, actor=_actor(), role="admin", action="key_retire", object_type="key",
                     object_id=args.key_id)
        session.commit()
    print(f"retired key {args.key_id}; remaining: {', '.join(services.keyring.key_ids)}")
    return 0
