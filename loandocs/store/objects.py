"""Where the document store's bytes live: a folder on the local disk (the default) or an
S3-compatible bucket (``LOANDOCS_STORAGE_URL=s3://bucket/prefix``).

A backend moves opaque blobs (already AES-GCM encrypted by ``files.DocumentStore``, so nothing
readable ever leaves the process) under names ``ab/cd/<sha256>``. The contract, kept by both:

- ``write`` is atomic from a reader's view: a reader finds no object or the whole one (local:
  temp file + ``os.replace``; S3: a PUT is only visible once complete).
- ``read`` of a missing object raises ``FileNotFoundError``; ``DocumentStore`` turns it into
  ``stored_file_missing``. A store that cannot be reached raises ``StorageUnavailable``
  (``storage_unavailable``, 503: try again later); one that refuses our credentials or has no
  such bucket raises ``StorageError`` with ``storage_access_denied`` / ``storage_bucket_missing``.
- ``replace(key, blob, if_version=v)`` writes only if the object is still the version ``v``
  read earlier, so key rotation never overwrites a concurrent change nor revives an erased file.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Protocol
from urllib.parse import urlsplit

from loandocs.errors import ConfigError, LoanDocsError
from loandocs.store.crypto import fsync_dir

if TYPE_CHECKING:
    from loandocs.config import Settings

KEY = re.compile(r"[0-9a-f]{64}")


class StorageError(LoanDocsError):
    """``invalid_storage_key``, ``stored_file_missing``, ``stored_file_corrupt``,
    ``storage_access_denied``, ``storage_bucket_missing``, ``storage_error``."""

    code = "storage_error"
    http_status = 500


class StorageUnavailable(StorageError, ConfigError):
    """``storage_unavailable``: the object store did not answer (down, timing out, 5xx). Also a
    ``ConfigError`` on purpose: the worker re-raises those (an operator's problem, not a bad file),
    so rq retries the job instead of failing the document."""

    code = "storage_unavailable"
    http_status = 503


def object_name(key: str) -> str:
    # The key is only ever 64 lowercase hex characters: no "/", "..", or absolute paths.
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise StorageError("storage key is not a SHA-256 hex digest", code="invalid_storage_key")
    return f"{key[:2]}/{key[2:4]}/{key}"


class Backend(Protocol):
    description: str

    def read(self, key: str) -> tuple[bytes, Any]:
        """The blob and an opaque version token for ``replace``; FileNotFoundError if absent."""

    def head(self, key: str, n: int) -> bytes:
        """The first ``n`` bytes; FileNotFoundError if absent."""

    def write(self, key: str, blob: bytes) -> None: ...

    def replace(self, key: str, blob: bytes, *, if_version: Any) -> bool:
        """Write only if the object is still ``if_version``; False when changed or gone."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...


class LocalBackend:
    """``<root>/ab/cd/<sha256>`` on the local disk (``<data_dir>/documents``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.description = str(self.root)

    def path_for(self, key: str) -> Path:
        return self.root / object_name(key)

    def read(self, key: str) -> tuple[bytes, Any]:
        path = self.path_for(key)
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            return fh.read(), (st.st_ino, st.st_mtime_ns)

    def head(self, key: str, n: int) -> bytes:
        with open(self.path_for(key), "rb") as fh:
            return fh.read(n)

    def write(self, key: str, blob: bytes) -> None:
        path = self.path_for(key)
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

    def replace(self, key: str, blob: bytes, *, if_version: Any) -> bool:
        try:
            st = os.stat(self.path_for(key))
        except FileNotFoundError:  # erased while we worked: do not bring it back
            return False
        if (st.st_ino, st.st_mtime_ns) != if_version:
            return False  # rewritten by someone else meanwhile; the next pass looks again
        self.write(key, blob)
        return True

    def exists(self, key: str) -> bool:
        return self.path_for(key).exists()

    def delete(self, key: str) -> None:
        try:
            self.path_for(key).unlink()
        except FileNotFoundError:
            pass

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if second.is_dir():
                    yield from sorted(p.name for p in second.iterdir() if KEY.fullmatch(p.name))


class S3Backend:
    """Objects ``<prefix>/ab/cd/<sha256>`` in one bucket of an S3-compatible store (AWS S3,
    MinIO, SeaweedFS, Ceph RGW...), through boto3. Conditional writes (``If-Match``,
    ``If-None-Match``) keep rotation and concurrent uploads from overwriting each other."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0, max_attempts: int = 3):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.description = f"s3://{bucket}/{self.prefix}" + (f" at {endpoint_url}" if endpoint_url else "")
        # Bounded timeouts and a few quick retries: an outage surfaces as storage_unavailable within
        # seconds (the upload answers 503) instead of holding a request thread for minutes.
        config = Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                        retries={"mode": "standard", "total_max_attempts": max(1, max_attempts)},
                        s3={"addressing_style": "path"}, signature_version="s3v4")
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key, config=config)

    def _name(self, key: str) -> str:
        name = object_name(key)
        return f"{self.prefix}/{name}" if self.prefix else name

    def _call(self, op: str, key: str | None, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, op)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in ("NoSuchKey", "404", "NotFound"):
                raise FileNotFoundError(key) from None
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict") or status in (409, 412):
                raise _Precondition() from None
            if code == "NoSuchBucket":
                raise StorageError(f"bucket {self.bucket} does not exist ({self.description})",
                                   code="storage_bucket_missing") from None
            if status in (401, 403) or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StorageError(f"object store refused our credentials: {code} ({self.description})",
                                   code="storage_access_denied") from None
            if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
                raise StorageUnavailable(f"object store answered {status} {code} ({self.description})") from None
            raise StorageError(f"object store error {status} {code} on {op} ({self.description})") from None
        except BotoCoreError as exc:  # connection refused or reset, timeouts, a cut-off body
            raise StorageUnavailable(f"object store unreachable: {exc.__class__.__name__} ({self.description})") from None

    def read(self, key: str) -> tuple[bytes, Any]:
        from botocore.exceptions import BotoCoreError

        out = self._call("get_object", key, Key=self._name(key))
        try:
            return out["Body"].read(), out.get("ETag")
        except BotoCoreError as exc:  # the connection broke while the body streamed
            raise StorageUnavailable(f"object store read cut off: {exc.__class__.__name__}") from None

    def head(self, key: str, n: int) -> bytes:
        out = self._call("get_object", key, Key=self._name(key), Range=f"bytes=0-{n - 1}")
        return out["Body"].read()

    def write(self, key: str, blob: bytes) -> None:
        self._call("put_object", key, Key=self._name(key), Body=blob)

    def write_new(self, key: str, blob: bytes) -> None:
        """Write unless an object of that name exists (content addressing: it is the same file)."""
        try:
            self._call("put_object", key, Key=self._name(key), Body=blob, IfNoneMatch="*")
        except _Precondition:
            pass

    def replace(self, key: str, blob: bytes, *, if_version: Any) -> bool:
        try:
            self._call("put_object", key, Key=self._name(key), Body=blob, IfMatch=if_version)
        except (_Precondition, FileNotFoundError):
            return False
        return True

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", key, Key=self._name(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        self._call("delete_object", key, Key=self._name(key))

    def keys(self) -> Iterator[str]:
        token: str | None = None
        base = f"{self.prefix}/" if self.prefix else ""
        while True:
            kwargs: dict[str, Any] = {"Prefix": base}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list_objects_v2", None, **kwargs)
            for obj in page.get("Contents", []):
                rest = obj["Key"][len(base):]
                name = rest.rsplit("/", 1)[-1]
                if KEY.fullmatch(name) and rest == object_name(name):
                    yield name
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")


class _Precondition(Exception):
    """A conditional write lost: the object changed or exists (internal to S3Backend)."""


def backend_for(settings: Settings) -> Backend:
    """The backend ``LOANDOCS_STORAGE_URL`` names: unset or ``file:`` -> the local folder;
    ``s3://bucket/prefix`` -> S3 with the ``LOANDOCS_S3_*`` settings."""
    url = settings.storage_url
    if not url:
        return LocalBackend(Path(settings.data_dir) / "documents")
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalBackend(parts.path or Path(settings.data_dir) / "documents")
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"LOANDOCS_STORAGE_URL must be s3://bucket/prefix or file:///path, not {url!r}",
                          code="invalid_storage_url")
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    return S3Backend(parts.netloc, parts.path, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                     access_key_id=settings.s3_access_key_id, secret_access_key=secret,
                     connect_timeout=settings.s3_connect_timeout_s, read_timeout=settings.s3_read_timeout_s,
                     max_attempts=settings.s3_max_attempts)
