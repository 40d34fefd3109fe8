"""Encryption at rest: AES-256-GCM with a keyring, for stored files and personal-data columns.

Format (version 1). A file is ``b"LDE1" + key_id + nonce + ciphertext_and_tag``; a column value
is the text ``"LDE1:<key_id>:" + base64(nonce + ciphertext_and_tag)``. ``key_id`` is 8 hex
characters derived from the key itself, so every value says which key opens it: old keys stay
in the ring while ``loandocs keys rotate`` re-encrypts, and the column form lets SQL count and
select values by key (``LIKE 'LDE1:<id>:%'``) without decrypting them.

Associated data binds each value to its use: ``applications.applicant_name`` for a column, the
storage key (the plaintext's SHA-256) for a file. A value copied into another column, or a file
renamed over another, fails authentication instead of being read as something it is not.

Keys come from ``LOANDOCS_ENCRYPTION_KEY`` (base64 keys, comma-separated, the first encrypts)
or from a key file created on first run with mode 0600 (``KeyFile``). A keyring read from a
file re-reads it when it changes, so running processes learn of a rotation without a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
import threading
import time
from pathlib import Path
from typing import Any, Protocol, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from loandocs.errors import ConfigError, LoanDocsError

MAGIC = b"LDE1"
TEXT_MAGIC = "LDE1:"
KEY_ID_LEN = 8  # hex characters
NONCE_LEN = 12  # the GCM standard nonce; random per value (2^-32 collision bound is far off)
HEADER_LEN = len(MAGIC) + KEY_ID_LEN
KEY_BYTES = 32  # AES-256
REFRESH_SECONDS = 2.0  # how stale a file-backed keyring may be before it looks at the file again


class EncryptionError(LoanDocsError):
    """``decryption_failed`` (tampered, truncated, wrong key, or used in the wrong place),
    ``encryption_key_unknown`` (written with a key this process does not have),
    ``keyring_missing`` (nothing installed the keyring before the database was used)."""

    code = "decryption_failed"
    http_status = 500


class Cipher(Protocol):
    """What the document store and the encrypted columns need; ``Keyring`` and (tests, and
    the at-rest scan's control run) ``IdentityCipher``."""

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes: ...
    def decrypt(self, data: bytes, aad: bytes = b"") -> bytes: ...
    def encrypt_text(self, text: str, aad: bytes = b"") -> str: ...
    def decrypt_text(self, text: str, aad: bytes = b"") -> str: ...


class IdentityCipher:
    """Stores everything in clear. Never configured in production; it exists so a test can show
    that the at-rest scan does find plaintext when nothing encrypts it."""

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        return data

    def decrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        return data

    def encrypt_text(self, text: str, aad: bytes = b"") -> str:
        return text

    def decrypt_text(self, text: str, aad: bytes = b"") -> str:
        return text


def key_id(key: bytes) -> str:
    # A one-way label: it reveals nothing usable about a 256-bit random key.
    return hashlib.sha256(b"loandocs-key-id\0" + key).hexdigest()[:KEY_ID_LEN]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("an encryption key is not valid base64", code="encryption_key_invalid") from None
    if len(key) != KEY_BYTES:
        raise ConfigError(f"an encryption key must be {KEY_BYTES} bytes (base64 of 32 random bytes), "
                          f"not {len(key)}", code="encryption_key_invalid")
    return key


def text_prefix(kid: str) -> str:
    """The start of every column value encrypted with key ``kid``."""
    return f"{TEXT_MAGIC}{kid}:"


def blob_key_id(blob: bytes) -> str | None:
    """The key id in a file's header, or None when it is not in this format."""
    if len(blob) < HEADER_LEN or not blob.startswith(MAGIC):
        return None
    return blob[len(MAGIC):HEADER_LEN].decode("ascii", "replace")


def text_key_id(value: str) -> str | None:
    if not value.startswith(TEXT_MAGIC) or len(value) < len(TEXT_MAGIC) + KEY_ID_LEN + 1:
        return None
    return value[len(TEXT_MAGIC):len(TEXT_MAGIC) + KEY_ID_LEN]


def _aad(kid: bytes, aad: bytes) -> bytes:
    # The header is authenticated too: no one can relabel a value with another format version.
    return MAGIC + kid + b"\0" + aad


class KeyFile:
    """``<kid> <base64 key>`` per line, the first line the primary key. Created with 0600 and
    refused when group or others may read it (it opens every document)."""

    HEADER = ("# loandocs encryption keys (AES-256-GCM). Keep this file secret and backed up: without\n"
              "# it the stored documents and personal data cannot be read. The first key encrypts new\n"
              "# data; the others only decrypt, until `loandocs keys retire` removes them.\n")

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def signature(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> list[bytes]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise ConfigError(f"key file {self.path} does not exist", code="key_file_missing") from None
        except OSError as exc:
            raise ConfigError(f"cannot read key file {self.path}: {exc.strerror}", code="key_file_unreadable") from None
        with os.fdopen(fd, "r", encoding="ascii", errors="replace") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if os.name == "posix" and mode & 0o077:
                raise ConfigError(f"key file {self.path} may be read by group or others (mode "
                                  f"{stat.S_IMODE(mode):04o}); run chmod 600 on it", code="key_file_insecure")
            text = fh.read()
        keys = []
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ConfigError(f"key file {self.path} line {n}: expected '<key id> <base64 key>'",
                                  code="encryption_key_invalid")
            key = decode_key(parts[1])
            if key_id(key) != parts[0]:  # a truncated or hand-edited key is caught here, not at decrypt
                raise ConfigError(f"key file {self.path} line {n}: key id {parts[0]} does not match its key",
                                  code="encryption_key_invalid")
            keys.append(key)
        if not keys:
            raise ConfigError(f"key file {self.path} holds no key", code="encryption_key_invalid")
        return keys

    def _render(self, keys: Sequence[bytes]) -> bytes:
        return (self.HEADER + "".join(f"{key_id(k)} {encode_key(k)}\n" for k in keys)).encode("ascii")

    def _temp(self, data: bytes) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_CREAT|O_EXCL with 0600: the key never exists, even for an instant, under a wider mode.
        for _ in range(100):
            tmp = str(self.path.parent / f".{self.path.name}.{secrets.token_hex(8)}")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                continue
        else:  # pragma: no cover - 100 random collisions
            raise ConfigError(f"cannot create a temporary key file in {self.path.parent}", code="key_file_unreadable")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp

    def create(self, keys: Sequence[bytes]) -> bool:
        """Write the file unless it exists. False when another process created it first.

        Written to a temporary name and hard-linked into place: link fails if the name exists,
        so of two processes starting together one creates it and the other reads a whole file,
        never a half-written one."""
        tmp = self._temp(self._render(keys))
        try:
            os.link(tmp, self.path)
            created = True
        except FileExistsError:
            created = False
        finally:
            os.unlink(tmp)
        fsync_dir(self.path.parent)
        return created

    def replace(self, keys: Sequence[bytes]) -> None:
        """Rewrite the file atomically (rotation, retirement); readers see the old or new one."""
        os.replace(self._temp(self._render(keys)), self.path)
        fsync_dir(self.path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (the key file here, stored documents in ``files``)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the data itself is synced
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Keyring:
    """The keys this process can decrypt with; the first (primary) one encrypts.

    Thread-safe: the key table is replaced as a whole on reload, never changed in place."""

    def __init__(self, keys: Sequence[bytes], *, key_file: KeyFile | None = None,
                 refresh_seconds: float = REFRESH_SECONDS):
        self.key_file = key_file
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._set(keys)
        self._signature = key_file.signature() if key_file else None
        self._checked = time.monotonic()

    @classmethod
    def generate(cls) -> "Keyring":
        return cls([new_key()])

    def _set(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigError("a keyring needs at least one key", code="encryption_key_invalid")
        table = {key_id(k): AESGCM(k) for k in keys}
        self._state = (key_id(keys[0]), table, tuple(key_id(k) for k in keys))

    @property
    def primary_id(self) -> str:
        return self._state[0]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return self._state[2]

    @property
    def source(self) -> str:
        return str(self.key_file.path) if self.key_file else "LOANDOCS_ENCRYPTION_KEY"

    def refresh(self, force: bool = False) -> bool:
        """Re-read the key file if it changed. At most every ``refresh_seconds`` unless forced;
        a stat call otherwise. True when the keys changed."""
        if self.key_file is None:
            return False
        now = time.monotonic()
        if not force and now - self._checked < self.refresh_seconds:
            return False
        with self._lock:
            self._checked = now
            sig = self.key_file.signature()
            if sig is None or sig == self._signature:
                return False
            keys = self.key_file.read()
            self._set(keys)
            self._signature = sig
            return True

    # -- bytes (files) ----------------------------------------------------------------------

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        self.refresh()  # a rotation elsewhere becomes this process's primary within seconds
        primary, table, _ = self._state
        kid = primary.encode("ascii")
        nonce = secrets.token_bytes(NONCE_LEN)
        return MAGIC + kid + nonce + table[primary].encrypt(nonce, data, _aad(kid, aad))

    def decrypt(self, data: bytes, aad: bytes = b"") -> bytes:
        kid = blob_key_id(data)
        if kid is None or len(data) < HEADER_LEN + NONCE_LEN + 16:
            raise EncryptionError("stored data is not in the encrypted format", code="decryption_failed")
        body = data[HEADER_LEN:]
        return self._open(kid, body[:NONCE_LEN], body[NONCE_LEN:], aad)

    def _open(self, kid: str, nonce: bytes, ct: bytes, aad: bytes) -> bytes:
        aead = self._state[1].get(kid)
        if aead is None and self.refresh(force=True):  # rotated by another process just now
            aead = self._state[1].get(kid)
        if aead is None:
            raise EncryptionError(
                f"data was encrypted with key {kid}, which is not in the keyring from {self.source} "
                f"(keys: {', '.join(self.key_ids)}); is this the key file or LOANDOCS_ENCRYPTION_KEY "
                "the data was written with?", code="encryption_key_unknown", key_id=kid)
        try:
            return aead.decrypt(nonce, ct, _aad(kid.encode("ascii"), aad))
        except InvalidTag:
            raise EncryptionError("stored data failed authentication (tampered, truncated, or moved "
                                  "from elsewhere)", code="decryption_failed", key_id=kid) from None

    # -- text (columns) ---------------------------------------------------------------------

    def encrypt_text(self, text: str, aad: bytes = b"") -> str:
        blob = self.encrypt(text.encode("utf-8"), aad)
        return text_prefix(blob[len(MAGIC):HEADER_LEN].decode("ascii")) + base64.b64encode(blob[HEADER_LEN:]).decode("ascii")

    def decrypt_text(self, text: str, aad: bytes = b"") -> str:
        kid = text_key_id(text)
        if kid is None or text[len(TEXT_MAGIC) + KEY_ID_LEN] != ":":
            raise EncryptionError("stored value is not in the encrypted format", code="decryption_failed")
        try:
            body = base64.b64decode(text[len(TEXT_MAGIC) + KEY_ID_LEN + 1:], validate=True)
        except (binascii.Error, ValueError):
            raise EncryptionError("stored value is not valid base64", code="decryption_failed") from None
        if len(body) < NONCE_LEN + 16:
            raise EncryptionError("stored value is truncated", code="decryption_failed")
        return self._open(kid, body[:NONCE_LEN], body[NONCE_LEN:], aad).decode("utf-8")


def default_key_file(data_dir: str | Path) -> Path:
    return Path(data_dir) / "keys" / "loandocs.keys"


def load_keyring(env_keys: str | None, key_file: str | Path, *, create: bool = True) -> Keyring:
    """Keys from ``env_keys`` (comma-separated base64, first = primary) when set, otherwise from
    ``key_file``, which is created with one new key if it does not exist and ``create``."""
    if env_keys and env_keys.strip():
        keys = [decode_key(part) for part in env_keys.split(",") if part.strip()]
        if len({key_id(k) for k in keys}) != len(keys):
            raise ConfigError("LOANDOCS_ENCRYPTION_KEY lists a key twice", code="encryption_key_invalid")
        return Keyring(keys)
    kf = KeyFile(key_file)
    if kf.signature() is None:
        if not create:
            raise ConfigError(f"key file {kf.path} does not exist", code="key_file_missing")
        kf.create([new_key()])
    return Keyring(kf.read(), key_file=kf)


# -- the keyring the encrypted columns use ----------------------------------------------------

_installed: Cipher | None = None


def install_keyring(keyring: Cipher | None) -> None:
    """The process-wide keyring, for engines that have none bound (``bind_keyring``)."""
    global _installed
    _installed = keyring


def installed_keyring() -> Cipher | None:
    return _installed


def bind_keyring(engine: Any, keyring: Cipher) -> None:
    """Tie ``keyring`` to one engine: its columns use it whatever else is installed, so two
    services in one process (tests, tools) never encrypt with each other's keys."""
    engine.dialect.loandocs_keyring = keyring


def keyring_for(dialect: Any) -> Cipher:
    keyring = getattr(dialect, "loandocs_keyring", None) or _installed
    if keyring is None:
        raise EncryptionError("no encryption keyring is installed; build the database through "
                              "loandocs.services.Services or call loandocs.store.crypto.install_keyring",
                              code="keyring_missing")
    return keyring


def column_aad(purpose: str) -> bytes:
    """The associated data of column ``purpose``; the migration and the rotation handle raw
    column values and use it too."""
    return b"column:" + purpose.encode("utf-8")


class _NoSqlComparison(TypeDecorator.Comparator):  # type: ignore[name-defined]
    # Each value has its own random nonce, so "= 'x'" or LIKE in SQL would silently match
    # nothing; refuse them loudly. IS [NOT] NULL still works.
    def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
        if op not in (operators.is_, operators.is_not):
            raise TypeError(f"encrypted column {self.expr} cannot be compared or sorted in SQL")
        return super().operate(op, *other, **kwargs)

    def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
        raise TypeError(f"encrypted column {self.expr} cannot be compared or sorted in SQL")


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; ``purpose`` (``"table.column"``) is its associated data."""

    impl = Text
    cache_ok = True
    comparator_factory = _NoSqlComparison

    def __init__(self, purpose: str):
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring_for(dialect).encrypt_text(value, column_aad(self.purpose))

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return keyring_for(dialect).decrypt_text(value, column_aad(self.purpose))


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted as text. SQL NULL for None, as a nullable column expects."""

    impl = Text
    cache_ok = True
    comparator_factory = _NoSqlComparison

    def __init__(self, purpose: str):
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return keyring_for(dialect).encrypt_text(text, column_aad(self.purpose))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        if value is None:
            return None
        return json.loads(keyring_for(dialect).decrypt_text(value, column_aad(self.purpose)))


__all__ = [
    "Cipher", "EncryptedJSON", "EncryptedText", "EncryptionError", "IdentityCipher", "KeyFile", "Keyring",
    "bind_keyring", "blob_key_id", "column_aad", "decode_key", "default_key_file", "encode_key", "install_keyring",
    "installed_keyring", "key_id", "keyring_for", "load_keyring", "new_key", "text_key_id", "text_prefix",
]
