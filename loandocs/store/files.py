"""Content-addressed document store on the local disk.

A stored file lives at ``<data_dir>/documents/ab/cd/<sha256>``; its storage key is the bare
SHA-256 of the plaintext, so a key can never name anything outside the store and an identical
re-upload is written once. Encryption at rest plugs in through ``cipher`` (DESIGN: AES-GCM,
key from configuration); the default is the identity, until that issue lands.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from loandocs.errors import LoanDocsError

_KEY = re.compile(r"[0-9a-f]{64}")


class Cipher(Protocol):
    def encrypt(self, data: bytes) -> bytes: ...
    def decrypt(self, data: bytes) -> bytes: ...


class IdentityCipher:
    def encrypt(self, data: bytes) -> bytes:
        return data

    def decrypt(self, data: bytes) -> bytes:
        return data


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

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self.path_for(key)
        if path.exists():  # same content already stored (a re-upload); the file is immutable
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        # Temp file in the same folder (same file system) + os.replace: readers and a crash see
        # either no file or the whole file, never a partial one.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.cipher.encrypt(data))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(path.parent)  # make the rename itself durable
        return key

    def get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            data = self.cipher.decrypt(path.read_bytes())
        except FileNotFoundError:
            raise StorageError(f"stored file {key} is missing", code="stored_file_missing") from None
        # Cheap end-to-end check: disk rot or a wrong key/cipher shows up here, not in OCR.
        if hashlib.sha256(data).hexdigest() != key:
            raise StorageError(f"stored file {key} does not match its digest", code="stored_file_corrupt")
        return data

    def exists(self, key: str) -> bool:
        return self.path_for(key).exists()

    def delete(self, key: str) -> None:
        """Remove the file. Content addressing means several documents may share one key: the
        caller checks that no other document row still refers to it."""
        try:
            self.path_for(key).unlink()
        except FileNotFoundError:
            pass


def _fsync_dir(path: Path) -> None:
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
