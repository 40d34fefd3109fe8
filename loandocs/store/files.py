"""Content-addressed document store on the local disk, encrypted at rest.

A stored file lives at ``<data_dir>/documents/ab/cd/<sha256>``; its storage key is the bare
SHA-256 of the plaintext, so a key can never name anything outside the store and an identical
re-upload is written once. What is on disk is ``cipher.encrypt(plaintext)`` with the storage key
as associated data (``crypto``: AES-256-GCM, key id in the header), so a file moved under
another name does not decrypt. ``IdentityCipher`` (plaintext) is only for tests.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator

from loandocs.errors import LoanDocsError
from loandocs.store.crypto import HEADER_LEN, MAGIC, Cipher, IdentityCipher, blob_key_id, fsync_dir

_KEY = re.compile(r"[0-9a-f]{64}")


class StorageError(LoanDocsError):
    """``invalid_storage_key``, ``stored_file_missing``, ``stored_file_corrupt``."""

    code = "storage_error"
    http_status = 500


class DocumentStore:
    def __init__(self, data_dir: str | Path, cipher: Cipher | None = None):
        self.root = Path(data_dir).resolve() / "documents"
        self.cipher: Cipher = cipher or IdentityCipher()

    def path_for(self, key: str) -> Path:
        # The key is only ever 64 lowercase hex characters: no "/", "..", or absolute paths.
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise StorageError("storage key is not a SHA-256 hex digest", code="invalid_storage_key")
        return self.root / key[:2] / key[2:4] / key

    @staticmethod
    def _aad(key: str) -> bytes:
        return b"file:" + key.encode("ascii")

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self.path_for(key)
        if path.exists():  # same content already stored (a re-upload); the file is immutable
            return key
        self._write(path, self.cipher.encrypt(data, self._aad(key)))
        return key

    def _write(self, path: Path, blob: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Temp file in the same folder (same file system) + os.replace: readers and a crash see
        # either no file or the whole file, never a partial one.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        fsync_dir(path.parent)  # make the rename itself durable

    def get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise StorageError(f"stored file {key} is missing", code="stored_file_missing") from None
        return self._open(key, raw)

    def _open(self, key: str, raw: bytes) -> bytes:
        if not raw.startswith(MAGIC) and hashlib.sha256(raw).hexdigest() == key:
            # Written in clear before encryption at rest (``keys rotate`` encrypts it). Safe to
            # read: content addressing means nothing but the original bytes can match the name.
            return raw
        data = self.cipher.decrypt(raw, self._aad(key))
        # Cheap end-to-end check: disk rot or a wrong key/cipher shows up here, not in OCR.
        if hashlib.sha256(data).hexdigest() != key:
            raise StorageError(f"stored file {key} does not match its digest", code="stored_file_corrupt")
        return data

    # -- key rotation ------------------------------------------------------------------------

    def keys(self) -> Iterator[str]:
        """Every stored file's key (temporary files and anything else are skipped)."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if second.is_dir():
                    yield from sorted(p.name for p in second.iterdir() if _KEY.fullmatch(p.name))

    def key_id_of(self, key: str) -> str | None:
        """The id of the key that encrypted the file; None for a file still in clear."""
        with open(self.path_for(key), "rb") as fh:
            return blob_key_id(fh.read(HEADER_LEN))

    def reencrypt(self, key: str, *, unless_key_id: str | None = None) -> bool:
        """Rewrite one file under the cipher's current (primary) key, atomically: a reader sees
        the old file or the new one, and both decrypt while the old key is in the ring. Skipped
        (False) when it is already under ``unless_key_id`` or was deleted meanwhile."""
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
            before = os.stat(path)
        except FileNotFoundError:
            return False
        if unless_key_id is not None and blob_key_id(raw) == unless_key_id:
            return False
        blob = self.cipher.encrypt(self._open(key, raw), self._aad(key))
        try:
            now = os.stat(path)
        except FileNotFoundError:  # erased while we worked: do not bring it back
            return False
        if (now.st_ino, now.st_mtime_ns) != (before.st_ino, before.st_mtime_ns):
            return False  # rewritten by someone else meanwhile; the next pass looks again
        self._write(path, blob)
        return True

    def exists(self, key: str) -> bool:
        return self.path_for(key).exists()

    def delete(self, key: str) -> None:
        """Remove the file. Content addressing means several documents may share one key: the
        caller checks that no other document row still refers to it."""
        try:
            self.path_for(key).unlink()
        except FileNotFoundError:
            pass
