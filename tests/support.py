"""Test support: start the real `tempmail serve` in a subprocess on free loopback ports.

Nothing of ours is mocked: tests talk to the server over real HTTP and real SMTP sockets,
and the server talks to a real SQLite file or a real PostgreSQL database made for it.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from sqlalchemy import Connection

PG_ADMIN_URL = os.environ.get("TEMPMAIL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
ADMIN_PASSWORD = "admin-test-password"
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"

BASE_ENV: dict[str, str] = {
    "DOMAINS": '["test.example", "example.org"]',
    "ADMIN_PASSWORDS": ADMIN_PASSWORD,
    "JWT_SECRET": JWT_SECRET,
    "ENABLE_USER_CREATE_EMAIL": "true",
    "ENABLE_USER_DELETE_EMAIL": "true",
    "ENABLE_ADDRESS_PASSWORD": "true",
    "E2E_TEST_MODE": "true",
    "SMTP_HOSTNAME": "mx.test.example",
    "LOG_LEVEL": "warning",
    # Dozens of test servers share one PostgreSQL (max_connections 100 by default).
    "DATABASE_POOL_SIZE": "2",
    # Every test client is 127.0.0.1, and many tests send wrong credentials on purpose to
    # servers shared by whole modules: the rate limits are tested on servers of their own
    # (tests/http/test_rate_limit.py).
    "RATE_LIMIT_CREATIONS": "0",
    "RATE_LIMIT_LOGIN_FAILURES": "0",
    "RATE_LIMIT_ADMIN_FAILURES": "0",
}

# Settings of the servers that test user accounts and roles (one shared server per backend).
USERS_ENV: dict[str, str] = {
    "USER_ROLES": '[{"role": "vip", "domains": ["example.org"], "prefix": "vip"}, '
    '{"role": "boss", "domains": [], "prefix": ""}]',
    "USER_DEFAULT_ROLE": "vip",
    "ADMIN_USER_ROLE": "boss",
    "NO_LIMIT_SEND_ROLE": "vip",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_async(work: Any) -> Any:
    """Run a coroutine to completion from sync test code, in a thread of its own: the calling
    thread may already run an event loop (Playwright's sync API keeps one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _pg(statement: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    run_async(run())


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        _pg("SELECT 1")
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}"
    return None


class ScratchDatabase:
    """A fresh, empty database for one server: a SQLite file or a new PostgreSQL database."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        if backend == "sqlite":
            self._dir = tempfile.TemporaryDirectory(prefix="tempmail-test-")
            self.url = f"sqlite:///{self._dir.name}/tempmail.db"
        else:
            self.name = f"tempmail_test_{uuid.uuid4().hex[:12]}"
            _pg(f'CREATE DATABASE "{self.name}"')
            base = PG_ADMIN_URL.rsplit("/", 1)[0]
            self.url = f"{base}/{self.name}"

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement straight on the database (positional `?` parameters) and return
        its rows: for checking what is stored, and for setting up states like an expired code."""
        if self.backend == "sqlite":
            import contextlib
            import sqlite3

            # Closed on the way out (`with` on a connection only commits): an open one would hold
            # the file, which `tempmail restore` rightly refuses to replace.
            with contextlib.closing(sqlite3.connect(self.url.removeprefix("sqlite:///"))) as conn, conn:
                return [tuple(row) for row in conn.execute(statement, params).fetchall()]
        import asyncpg

        numbered = statement
        for index in range(1, len(params) + 1):
            numbered = numbered.replace("?", f"${index}", 1)

        async def run() -> list[tuple[Any, ...]]:
            conn = await asyncpg.connect(self.url, timeout=5)
            try:
                return [tuple(row) for row in await conn.fetch(numbered, *params)]
            finally:
                await conn.close()

        return list(run_async(run()))

    def drop(self) -> None:
        if self.backend == "sqlite":
            self._dir.cleanup()
        else:
            _pg(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Server:
    """One `tempmail serve` with its own database.

    It runs `--workers 1` unless asked for more: the suite tests the single-process server, whose
    every request meets the same process, deterministically (a server of several workers is
    tested in tests/test_workers.py). With `workers` > 1, `proc` is the supervisor. With
    `process_group`, the server leads a process group of its own, as a command started from a
    terminal does (so a test can send it a terminal's Ctrl-C). With `database`, it is another
    node on that server's database (which it leaves in place when it closes).
    """

    def __init__(
        self,
        backend: str,
        env: Mapping[str, str] | None = None,
        base: bool = True,
        workers: int = 1,
        process_group: bool = False,
        database: ScratchDatabase | None = None,
    ) -> None:
        self.owns_db = database is None
        self.db = database or ScratchDatabase(backend)
        self.backend = backend
        self.workers = workers
        self.process_group = process_group
        self.http_port = free_port()
        self.smtp_port = free_port()
        self.env = {**(BASE_ENV if base else {}), **(env or {}), "DATABASE_URL": self.db.url}
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.log = tempfile.NamedTemporaryFile(prefix="tempmail-server-", suffix=".log", delete=False)  # noqa: SIM115 - lives as long as the server
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.base_url, timeout=30)

    def start(self, timeout: float = 30) -> Server:
        clean = {
            k: v
            for k, v in os.environ.items()
            if not k.isupper() or k in ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH")
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tempmail",
                "serve",
                "--http",
                f"127.0.0.1:{self.http_port}",
                "--smtp",
                f"127.0.0.1:{self.smtp_port}",
                "--workers",
                str(self.workers),
            ],
            env={**clean, **self.env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            process_group=0 if self.process_group else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.smtp_port), timeout=0.2):
                    pass
                httpx.get(f"{self.base_url}/open_api/settings", timeout=1)
                return self
            except (OSError, httpx.HTTPError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, wait, and return the exit code."""
        code = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
        elif self.proc is not None:
            code = self.proc.returncode
        self.client.close()
        return code

    def close(self) -> None:
        self.stop()
        if self.owns_db:
            self.db.drop()
        Path(self.log.name).unlink(missing_ok=True)

    # Conveniences -----------------------------------------------------------------------

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"x-admin-auth": ADMIN_PASSWORD, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def with_jwt(self, method: str, path: str, jwt: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {jwt}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def new_address(self, name: str | None = None, domain: str = "test.example") -> dict[str, Any]:
        """Create an address through the public API and return `{jwt, address, ...}`."""
        name = name or f"u{uuid.uuid4().hex[:10]}"
        response = self.client.post("/api/new_address", json={"name": name, "domain": domain})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def smtp(self) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30)

    def send(self, to: str | list[str], raw: bytes | str, mail_from: str = "sender@remote.example") -> None:
        """Deliver over real SMTP; raises smtplib errors for any refusal."""
        with self.smtp() as client:
            client.sendmail(mail_from, to, raw)

    def user(self, method: str, path: str, user_jwt: str, **kwargs: Any) -> httpx.Response:
        headers = {"x-user-token": user_jwt, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def mails(self, jwt: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        response = self.with_jwt("GET", f"/api/mails?limit={limit}&offset={offset}", jwt)
        assert response.status_code == 200, response.text
        return dict(response.json())


def self_signed_certificate(folder: Path, hostname: str) -> tuple[str, str]:
    """A throw-away self-signed certificate and key for `hostname`, written as PEM files in
    `folder`; returns their paths (cert, key)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


def dot_stuffed(raw: bytes) -> bytes:
    """`raw` as DATA carries it, ending with CRLF . CRLF: a dot doubled at the start of every
    line, where lines end with CRLF only. smtplib also doubles a dot after a bare LF, which the
    server (rightly: only CRLF ends an SMTP line) keeps, so exact bytes need this instead."""
    stuffed = re.sub(rb"(?:^|(?<=\r\n))\.", b"..", raw) if raw else raw
    if stuffed and not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def as_stored(raw: bytes) -> bytes:
    """What the server stores of `raw` sent with `dot_stuffed`: the same bytes, plus the CRLF
    the end-of-data marker needed if `raw` did not end with one."""
    return raw if not raw or raw.endswith(b"\r\n") else raw + b"\r\n"


def send_exact(
    client: smtplib.SMTP, to: str | list[str], raw: bytes, mail_from: str = "sender@remote.example"
) -> tuple[int, bytes]:
    """One transaction on an open session carrying `raw` byte for byte (see `dot_stuffed`);
    returns the answer to the data (envelope refusals raise smtplib errors)."""
    client.ehlo_or_helo_if_needed()
    code, answer = client.mail(mail_from)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, answer, mail_from)
    for rcpt in [to] if isinstance(to, str) else to:
        code, answer = client.rcpt(rcpt)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({rcpt: (code, answer)})
    code, answer = client.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, answer)
    client.send(dot_stuffed(raw))
    return client.getreply()


def stored_raws(db: ScratchDatabase, address: str) -> list[bytes]:
    """The exact bytes of every mail stored for `address`, oldest first."""
    rows = db.sql("SELECT raw, raw_blob FROM raw_mails WHERE address = ? ORDER BY id", address)
    return [gzip.decompress(blob) if blob is not None else str(raw).encode() for raw, blob in rows]


def read_to_close(sock: socket.socket) -> bytes:
    """Everything a raw socket receives until the server closes it."""
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def upgrade_to(connection: Connection, revision: str) -> None:
    """The migrations up to `revision` only, on `connection`: a database as an older tempmail
    made it (for `Connection.run_sync`)."""
    # Imported here: the rest of this module talks to tempmail over its sockets only.
    from tempmail.db.engine import _alembic_config

    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
