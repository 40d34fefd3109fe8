"""What each key protects, and re-encryption under the primary key (``loandocs keys ...``).

Rotation runs beside live API and worker processes. Old keys stay in the ring until
``retire``, so a value is readable before, during and after it is rewritten; every batch is its
own short transaction; a row is only replaced if it still holds the ciphertext that was read
(a concurrent writer wins, and the next pass looks at its value). Processes that loaded the
keyring before the rotation keep writing with the old key until their key file check notices
the change (``crypto.REFRESH_SECONDS``), so ``rotate`` repeats passes until nothing is left.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Column, Engine, Table, Text, and_, func, not_, select, type_coerce, update

from loandocs.errors import ConfigError, LoanDocsError
from loandocs.store import crypto
from loandocs.store.files import DocumentStore
from loandocs.store.tables import Base

PLAINTEXT = "plaintext"  # inventory label for values and files not (yet) encrypted
PREFIX_LEN = len(crypto.TEXT_MAGIC) + crypto.KEY_ID_LEN + 1


class KeyInUse(LoanDocsError):
    """``key_in_use`` (data still needs it), ``key_is_primary``, ``key_not_in_keyring``."""

    code = "key_in_use"
    http_status = 409


@dataclass
class Inventory:
    rows: Counter[str] = field(default_factory=Counter)  # key id (or PLAINTEXT) -> values
    files: Counter[str] = field(default_factory=Counter)

    def total(self, kid: str) -> int:
        return self.rows[kid] + self.files[kid]

    def outside(self, kid: str) -> int:
        """Values and files not under key ``kid``."""
        return sum(self.rows.values()) + sum(self.files.values()) - self.total(kid)


@dataclass
class Progress:
    key_id: str = ""  # the primary key everything is now under
    rows: int = 0
    files: int = 0
    passes: int = 0


def encrypted_columns() -> list[tuple[Table, Column, str]]:
    """(table, column, purpose) for every ``EncryptedText``/``EncryptedJSON`` column."""
    out = []
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, (crypto.EncryptedText, crypto.EncryptedJSON)):
                out.append((table, col, col.type.purpose))
    return out


def _raw(col: Column):  # type: ignore[no-untyped-def]
    # The stored text itself, past the TypeDecorator (which would decrypt it).
    return type_coerce(col, Text)


def inventory(engine: Engine, store: DocumentStore | None) -> Inventory:
    inv = Inventory()
    with engine.connect() as conn:
        for table, col, _ in encrypted_columns():
            prefix = func.substr(_raw(col), 1, PREFIX_LEN)
            for p, n in conn.execute(select(prefix, func.count()).select_from(table)
                                     .where(col.is_not(None)).group_by(prefix)):
                inv.rows[crypto.text_key_id(p) if p and crypto.text_key_id(p) else PLAINTEXT] += n
    if store is not None:
        for key in store.keys():
            try:
                inv.files[store.key_id_of(key) or PLAINTEXT] += 1
            except FileNotFoundError:  # erased while we counted
                pass
    return inv


def reencrypt_rows(engine: Engine, keyring: crypto.Keyring, *, batch: int = 200,
                   progress: Callable[[str, int], None] | None = None) -> int:
    """Rewrite every value not under the primary key; returns how many were rewritten."""
    done = 0
    for table, col, purpose in encrypted_columns():
        pk = list(table.primary_key.columns)[0]
        aad = crypto.column_aad(purpose)
        last = None
        while True:
            primary = keyring.primary_id
            q = (select(pk, _raw(col)).where(col.is_not(None),
                                             not_(_raw(col).startswith(crypto.text_prefix(primary), autoescape=True)))
                 .order_by(pk).limit(batch))
            if last is not None:
                q = q.where(pk > last)
            with engine.begin() as conn:  # one short transaction per batch
                rows = conn.execute(q).all()
                if not rows:
                    break
                for ident, old in rows:
                    plain = keyring.decrypt_text(old, aad) if old.startswith(crypto.TEXT_MAGIC) else old
                    new = keyring.encrypt_text(plain, aad)
                    # Only if still the value we read: a concurrent writer's newer value wins.
                    res = conn.execute(update(table).where(and_(pk == ident, _raw(col) == old))
                                       .values({col.name: type_coerce(new, Text)}))
                    done += res.rowcount
            last = rows[-1][0]
            if progress:
                progress(f"{table.name}.{col.name}", len(rows))
    return done


def reencrypt_files(store: DocumentStore, keyring: crypto.Keyring, *,
                    progress: Callable[[str, int], None] | None = None) -> int:
    done = 0
    for n, key in enumerate(store.keys(), 1):
        if store.reencrypt(key, unless_key_id=keyring.primary_id):
            done += 1
        if progress and n % 100 == 0:
            progress("files", 100)
    return done


def rotate(engine: Engine, store: DocumentStore, keyring: crypto.Keyring, *, new_key: bool = True,
           batch: int = 200, max_passes: int = 10, pause: float | None = None,
           progress: Callable[[str, int], None] | None = None) -> Progress:
    """Optionally add a new primary key to the key file, then re-encrypt until every value and
    file is under the primary key. Needs a file-backed keyring to add a key."""
    pause = keyring.refresh_seconds + 0.5 if pause is None else pause
    if new_key:
        add_primary_key(keyring)
        # Let every running process notice the new key file before the first pass, so the pass
        # is not followed by writes still made under the old key.
        time.sleep(pause)
    result = Progress(key_id=keyring.primary_id)
    for _ in range(max_passes):
        result.passes += 1
        result.rows += reencrypt_rows(engine, keyring, batch=batch, progress=progress)
        result.files += reencrypt_files(store, keyring, progress=progress)
        if inventory(engine, store).outside(keyring.primary_id) == 0:
            return result
        # Left-overs were written by processes still on the old primary: give them time to
        # notice the key file changed, then look again.
        time.sleep(pause)
    return result


def add_primary_key(keyring: crypto.Keyring) -> str:
    if keyring.key_file is None:
        raise ConfigError("the keys come from LOANDOCS_ENCRYPTION_KEY: put a new key first in it "
                          "(`loandocs keys generate`), restart, then run `loandocs keys rotate --resume`",
                          code="keys_not_in_file")
    key = crypto.new_key()
    keyring.key_file.replace([key] + keyring.key_file.read())
    keyring.refresh(force=True)
    return crypto.key_id(key)


def retire(engine: Engine, store: DocumentStore, keyring: crypto.Keyring, kid: str) -> Inventory:
    """Remove key ``kid`` from the key file; refused while anything still needs it."""
    keyring.refresh(force=True)
    if kid not in keyring.key_ids:
        raise KeyInUse(f"key {kid} is not in the keyring ({', '.join(keyring.key_ids)})", code="key_not_in_keyring")
    if kid == keyring.primary_id:
        raise KeyInUse(f"key {kid} is the primary key; rotate to a new one first", code="key_is_primary")
    inv = inventory(engine, store)
    if inv.total(kid):
        raise KeyInUse(f"key {kid} still protects {inv.rows[kid]} values and {inv.files[kid]} files; "
                       "run `loandocs keys rotate --resume` first", code="key_in_use")
    if keyring.key_file is None:
        raise ConfigError(f"nothing uses key {kid} any more: remove it from LOANDOCS_ENCRYPTION_KEY "
                          "and restart the processes", code="keys_not_in_file")
    keyring.key_file.replace([k for k in keyring.key_file.read() if crypto.key_id(k) != kid])
    keyring.refresh(force=True)
    return inv


def check_known_keys(engine: Engine, keyring: crypto.Cipher, sample: int = 50) -> None:
    """Refuse to start when the database holds values under keys this process lacks: a worker
    on another machine with a fresh key file would otherwise write data nobody else can read."""
    if not isinstance(keyring, crypto.Keyring):
        return
    table = Base.metadata.tables["applications"]
    col = table.c.applicant_name
    with engine.connect() as conn:
        values = conn.execute(select(func.substr(_raw(col), 1, PREFIX_LEN)).limit(sample)).scalars().all()
    unknown = {crypto.text_key_id(v) for v in values if v and crypto.text_key_id(v)} - set(keyring.key_ids)
    if unknown and keyring.refresh(force=True):
        unknown -= set(keyring.key_ids)
    if unknown:
        raise ConfigError(
            f"the database holds data encrypted with key(s) {', '.join(sorted(unknown))}, which this process "
            f"does not have (keys from {keyring.source}: {', '.join(keyring.key_ids)}); give every process "
            "the same key file or LOANDOCS_ENCRYPTION_KEY", code="encryption_key_unknown")
