"""Content-addressed document store, encrypted at rest, over a storage backend (``objects``:
the local folder by default, or S3-compatible object storage).

A stored file's storage key is the bare SHA-256 of the plaintext, so a key can never name
anything outside the store and an identical re-upload is written once; the backend keeps it
as ``ab/cd/<sha256>``. What the backend holds is ``cipher.encrypt(plaintext)`` with the storage
key as associated data (``crypto``: AES-256-GCM, key id in the header), so the bytes are
encrypted before they leave the process and a file moved under another name does not decrypt.
``IdentityCipher`` (plaintext) is only for tests.
"""

from __future__ import annotations

import hashlib
import os  # noqa: F401 - tests patch files.os.replace; the write itself is in objects.LocalBackend
from pathlib import Path
from typing import Iterator

from loandocs.store.crypto import HEADER_LEN, MAGIC, Cipher, IdentityCipher, blob_key_id
from loandocs.store.objects import Backend, LocalBackend, StorageError, StorageUnavailable

__all__ = ["Cipher", "DocumentStore", "IdentityCipher", "StorageError", "StorageUnavailable"]


class DocumentStore:
    def __init__(self, data_dir: str | Path | None = None, cipher: Cipher | None = None, *,
                 backend: Backend | None = None):
        if backend is None:
            if data_dir is None:
                raise ValueError("a data dir (local folder) or a backend is required")
            backend = LocalBackend(Path(data_dir) / "documents")
        self.backend = backend
        self.cipher: Cipher = cipher or IdentityCipher()

    @property
    def root(self) -> Path:
        """The local folder (local backend only)."""
        if not isinstance(self.backend, LocalBackend):
            raise StorageError(f"the document store is {self.backend.description}, not a local folder")
        return self.backend.root

    def path_for(self, key: str) -> Path:
        """The file of ``key`` (local backend only)."""
        if not isinstance(self.backend, LocalBackend):
            raise StorageError(f"the document store is {self.backend.description}, not a local folder")
        return self.backend.path_for(key)

    @staticmethod
    def _aad(key: str) -> bytes:
        return b"file:" + key.encode("ascii")

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        if self.backend.exists(key):  # same content already stored (a re-upload); the file is immutable
            return key
        blob = self.cipher.encrypt(data, self._aad(key))
        write_new = getattr(self.backend, "write_new", None)
        # S3: If-None-Match, so two processes storing the same upload at once write it once.
        (write_new or self.backend.write)(key, blob)
        return key

    def get(self, key: str) -> bytes:
        try:
            raw, _ = self.backend.read(key)
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
        return self.backend.keys()

    def key_id_of(self, key: str) -> str | None:
        """The id of the key that encrypted the file; None for a file still in clear.
        FileNotFoundError when it is gone (erased while someone counted)."""
        return blob_key_id(self.backend.head(key, HEADER_LEN))

    def reencrypt(self, key: str, *, unless_key_id: str | None = None) -> bool:
        """Rewrite one file under the cipher's current (primary) key, atomically: a reader sees
        the old file or the new one, and both decrypt while the old key is in the ring. Skipped
        (False) when it is already under ``unless_key_id`` or was deleted or rewritten meanwhile
        (the backend's conditional replace: an erased file is not brought back)."""
        try:
            raw, version = self.backend.read(key)
        except FileNotFoundError:
            return False
        if unless_key_id is not None and blob_key_id(raw) == unless_key_id:
            return False
        blob = self.cipher.encrypt(self._open(key, raw), self._aad(key))
        return self.backend.replace(key, blob, if_version=version)

    def exists(self, key: str) -> bool:
        return self.backend.exists(key)

    def delete(self, key: str) -> None:
        """Remove the file. Content addressing means several documents may share one key: the
        caller checks that no other document row still refers to it."""
        self.backend.delete(key)
