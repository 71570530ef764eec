"""tempmail beside its floors: the same load on bare servers and on tempmail, in one run, as ratios.

    python bench/side_by_side.py                                   # SQLite and PostgreSQL
    python bench/side_by_side.py --backends sqlite --only page,health -d 5
    python bench/side_by_side.py --mails 1000000 --only page,deep  # the first page at 1M mails

A raw req/s figure says as much about the machine (2 noisy cores, or 32 quiet ones) as about
tempmail. A floor is the least a Python server can do for the same request here: a bare ASGI
`OK` (bench/floors/hello.py), the same mail page from bare Starlette + sqlite3 on the same
database file (bench/floors/page.py), aiosmtpd answering `250 OK` to DATA and nothing else
(bench/floors/smtp_noop.py). Floors and tempmail (SQLite, PostgreSQL) all run at once and take
turns, figure by figure and round after round, so that noise falls on every column alike; the
ratio tempmail / floor is the figure that carries over from one machine to another.

The database is filled with plain SQL (not tempmail's helpers, which may change) and every
credential is signed here with PyJWT; the load comes from wrk and postfix's smtp-source
(`apt-get install wrk postfix`). Every server started is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jwt

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ROOT / "bench" / "floors"
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("TEMPMAIL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")

DOMAIN = "bench.example"
BOX = f"box@{DOMAIN}"
SENDER = "sender@remote.example"
JWT_SECRET = "side-by-side-bench-jwt-secret-0123456789abcdef"
ADMIN_PASSWORD = "side-by-side-bench-admin"
USER_JWT_LIFETIME = timedelta(days=30)
FILL_CHUNK = 20_000
POLL_SECONDS = 0.02
INGEST_LIMIT_SECONDS = 900
WRK_TIMEOUT = "10s"
# The uvicorn settings every floor runs with: tempmail's own stack at its fastest.
UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]

BACKENDS = ("sqlite", "postgresql")
GROUPS = ("page", "deep", "health", "ingest")
SHORT = {"floor": "floor", "sqlite": "sqlite", "postgresql": "pg"}
T = TypeVar("T")


def say(text: str = "") -> None:
    print(text, flush=True)


# --- command line -------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="tempmail backends, comma-separated")
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"figures, comma-separated: {', '.join(GROUPS)}"
    )
    parser.add_argument("-d", "--duration", type=int, default=10, help="seconds of wrk per measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of wrk before each measurement")
    parser.add_argument("-c", "--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every figure on every target")
    parser.add_argument("--mails", type=int, default=100_000, help="mails stored before the page figures")
    parser.add_argument("--addresses", type=int, default=1_000, help="addresses the mails are spread over")
    parser.add_argument("--smtp-mails", type=int, default=3000, help="mails smtp-source sends (-m)")
    parser.add_argument(
        "--smtp-size", type=int, default=10240, help="payload bytes per mail (smtp-source -l)"
    )
    parser.add_argument("--sessions", type=int, default=8, help="parallel SMTP sessions (smtp-source -s)")
    parser.add_argument("--workers", type=int, help="tempmail serve --workers (default: tempmail's own)")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL to create the bench database on")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="extra tempmail setting (repeatable)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and PG database")
    args = parser.parse_args(argv)
    args.backends = _choices(parser, "--backends", args.backends, BACKENDS)
    args.only = _choices(parser, "--only", args.only, GROUPS)
    if args.addresses < 1 or args.mails < 0 or args.rounds < 1 or args.connections < args.threads:
        parser.error("need --addresses >= 1, --mails >= 0, --rounds >= 1, --connections >= --threads")
    return args


def _choices(parser: argparse.ArgumentParser, flag: str, value: str, allowed: Sequence[str]) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not chosen:
        parser.error(f"{flag}: expected some of {', '.join(allowed)}, got {value!r}")
    return [item for item in allowed if item in chosen]


def require_tools() -> None:
    """wrk and smtp-source are C programs from Debian packages: no pip install brings them."""
    for tool in ("wrk", "smtp-source"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"missing {tool}: apt-get install wrk postfix")


def tool(name: str) -> str:
    """smtp-source lives in /usr/sbin, which is not on every user's PATH."""
    return shutil.which(name) or f"/usr/sbin/{name}"


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server we started, in a process group of its own so that its workers stop with it."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    http_port: int | None = None
    smtp_port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, grace: float = 15) -> None:
        """SIGTERM to the leader, which stops its own workers (tempmail drains SMTP on it), then
        SIGKILL to whatever of the group is left: nothing outlives the bench."""
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@dataclass
class Servers:
    """Everything started, stopped in reverse order by `stop_all` (called from a finally)."""

    tmp: Path
    started: list[Server] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None, **ports: int) -> Server:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = Server(name, proc, log, **ports)
        self.started.append(server)
        return server

    def stop_all(self) -> None:
        while self.started:
            self.started.pop().stop()


def wait_ready(server: Server, health_path: str = "/", timeout: float = 90) -> None:
    """Until its HTTP answers (and its SMTP port accepts), or raise with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
        if _answers(server, health_path):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not start in {timeout:.0f} s:\n{server.log_tail()}")


def _answers(server: Server, health_path: str) -> bool:
    try:
        if server.smtp_port is not None:
            socket.create_connection(("127.0.0.1", server.smtp_port), timeout=1).close()
        if server.http_port is not None:
            # Any answer means it serves; a wrong one is for check_pages to report.
            http_get(server.http_port, health_path, {})
    except OSError:
        return False
    return True


def http_get(port: int, path: str, headers: dict[str, str], timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run_client(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """A load generator in the foreground; killed if we are interrupted while it runs."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


# --- /proc: process trees, CPU, memory ------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (tempmail's workers are children of the serve process)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def wait_idle(servers: Iterable[Server], timeout: float = 30, window: float = 0.5) -> None:
    """Until our servers use under 5 % of a core: work left over from the previous figure (the
    metadata tempmail writes after the 250, a checkpoint) must not land on the next one."""
    pids = [pid for server in servers for pid in process_tree(server.proc.pid)]
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    before = sum(_cpu_ticks(pid) for pid in pids)
    while time.monotonic() < deadline:
        time.sleep(window)
        after = sum(_cpu_ticks(pid) for pid in pids)
        if (after - before) / tick < 0.05 * window:
            return
        before = after


@dataclass(frozen=True)
class Memory:
    processes: int
    rss_kb: int
    hwm_kb: int
    pss_kb: int


def memory_of(server: Server) -> Memory:
    """Summed over the process tree; PSS counts pages shared between workers once."""
    rss = hwm = pss = 0
    pids = process_tree(server.proc.pid)
    for pid in pids:
        status = _kb_fields(Path(f"/proc/{pid}/status"))
        rss += status.get("VmRSS", 0)
        hwm += status.get("VmHWM", 0)
        pss += _kb_fields(Path(f"/proc/{pid}/smaps_rollup")).get("Pss", 0)
    return Memory(len(pids), rss, hwm, pss)


def _kb_fields(path: Path) -> dict[str, int]:
    try:
        text = path.read_text()
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            found[key] = int(value.split()[0])
    return found


# --- the data set ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mailbox:
    """An address and the two credentials that read its page."""

    name: str
    address_jwt: str
    user_jwt: str


@dataclass
class Dataset:
    backend: str
    url: str
    mailboxes: list[Mailbox]
    box_jwt: str
    fill_seconds: float
    size_bytes: int
    sqlite_path: Path | None = None
    server_version: str = ""


VOCABULARY_TEXT = (
    "hello thanks your order account code verify please click link below receipt payment invoice "
    "newsletter week update news team support reply message sent received confirm email address "
    "password reset security alert sign new device login today tomorrow meeting schedule delivery "
    "shipping tracking number package store offer discount subscription renew plan monthly annual "
    "the a of to and in for on with is are was be this that it you we our from by at as or not"
)
VOCABULARY = VOCABULARY_TEXT.split()
BODY_VARIANTS = 64
BODY_CHARS = 1550


def mail_bodies() -> list[str]:
    """A few dozen bodies of words drawn at random, so mails compress like text does (PostgreSQL
    would shrink one repeated sentence to nothing) without paying for a random text per mail."""
    rng = random.Random(2026)
    bodies = []
    for _ in range(BODY_VARIANTS):
        words: list[str] = []
        while sum(len(word) + 1 for word in words) < BODY_CHARS:
            words.append(rng.choice(VOCABULARY))
        lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
        bodies.append("\r\n".join(lines))
    return bodies


BODIES = mail_bodies()


def mail_text(n: int, to: str) -> str:
    """~2 KB of plain-text RFC 822 (under 2 KB, so that SQLite fits two in a 4 KB page and
    PostgreSQL keeps them inline, uncompressed), each with its own number and sender."""
    return (
        f"From: Sender {n % 97} <sender{n % 97}@remote.example>\r\nTo: <{to}>\r\n"
        f"Subject: Bench message number {n}\r\nMessage-ID: <{n}.bench@remote.example>\r\n"
        f"Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nMessage {n}.\r\n{BODIES[n % BODY_VARIANTS]}\r\n"
    )


def address_names(count: int) -> list[str]:
    return [f"bench{i}@{DOMAIN}" for i in range(count)]


def mail_rows(names: Sequence[str], count: int, stamp: Any) -> Iterator[tuple[Any, ...]]:
    """(message_id, source, address, raw, created_at), the addresses taken in turn."""
    for n in range(count):
        to = names[n % len(names)]
        yield (f"<{n}.bench@remote.example>", f"sender{n % 97}@remote.example", to, mail_text(n, to), stamp)


def chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def sign_mailboxes(
    names: Sequence[str], address_ids: dict[str, int], user_ids: dict[str, int]
) -> list[Mailbox]:
    """The credentials tempmail would issue: HS256 over JWT_SECRET (see security/tokens.py)."""
    now = int(time.time())
    exp = now + int(USER_JWT_LIFETIME.total_seconds())
    mailboxes = []
    for name in names:
        address_jwt = jwt.encode({"address": name, "address_id": address_ids[name]}, JWT_SECRET, "HS256")
        user_email = user_email_of(name)
        user_jwt = jwt.encode(
            {"user_email": user_email, "user_id": user_ids[user_email], "exp": exp, "iat": now},
            JWT_SECRET,
            "HS256",
        )
        mailboxes.append(Mailbox(name, address_jwt, user_jwt))
    return mailboxes


def user_email_of(name: str) -> str:
    """One user account per address, bound to it: /user_api/mails then shows that one address."""
    return f"user-{name}"


def box_jwt(address_ids: dict[str, int]) -> str:
    return jwt.encode({"address": BOX, "address_id": address_ids[BOX]}, JWT_SECRET, "HS256")


def tempmail_env(url: str, extra: Sequence[str]) -> dict[str, str]:
    """Our settings only: uppercase variables of the caller's shell (a stray DOMAINS) are dropped."""
    keep = {key: value for key, value in os.environ.items() if not key.isupper()}
    for key in ("PATH", "HOME", "LANG", "TMPDIR"):
        if key in os.environ:
            keep[key] = os.environ[key]
    settings = {
        "DATABASE_URL": url,
        "DOMAINS": DOMAIN,
        "JWT_SECRET": JWT_SECRET,
        "ADMIN_PASSWORDS": ADMIN_PASSWORD,
        "LOG_LEVEL": "warning",
    }
    for item in extra:
        key, _, value = item.partition("=")
        settings[key] = value
    return {**keep, **settings}


def upgrade_schema(url: str, extra: Sequence[str]) -> None:
    """tempmail's own migrations make the schema, so the fill writes the tables it will read."""
    result = subprocess.run(
        [PYTHON, "-m", "tempmail", "db", "upgrade"],
        env=tempmail_env(url, extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tempmail db upgrade failed ({result.returncode}):\n{result.stderr[-3000:]}")


# Every filled mail marked as indexed for search (tempmail's mail_search) with an empty text: the
# figures read pages, never search, and the one-time backfill a migrated database goes through
# (a few minutes of a core per 100 000 mails) is not what any figure measures.
MARK_INDEXED = "INSERT INTO mail_search (mail_id, address, body) SELECT id, address, '' FROM raw_mails"


def fill_sqlite(path: Path, names: list[str], mail_count: int) -> tuple[dict[str, int], dict[str, int]]:
    """One transaction of chunked executemany; without fsync and with a rollback journal, which
    costs little for rows appended to fresh tables (a WAL would hold every page twice); WAL,
    tempmail's mode, is set back at the end."""
    stamp = now_utc().strftime("%Y-%m-%d %H:%M:%S")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO address (name, source_meta, created_at, updated_at) VALUES (?, 'bench', ?, ?)",
            [(name, stamp, stamp) for name in [*names, BOX]],
        )
        address_ids = dict(conn.execute("SELECT name, id FROM address"))
        conn.executemany(
            "INSERT INTO users (user_email, password, created_at, updated_at) VALUES (?, 'bench', ?, ?)",
            [(user_email_of(name), stamp, stamp) for name in names],
        )
        user_ids = dict(conn.execute("SELECT user_email, id FROM users"))
        conn.executemany(
            "INSERT INTO users_address (user_id, address_id, created_at) VALUES (?, ?, ?)",
            [(user_ids[user_email_of(name)], address_ids[name], stamp) for name in names],
        )
        for batch in chunks(mail_rows(names, mail_count, stamp), FILL_CHUNK):
            conn.executemany(
                "INSERT INTO raw_mails (message_id, source, address, raw, created_at) VALUES (?, ?, ?, ?, ?)",
                batch,
            )
        conn.execute(MARK_INDEXED)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return address_ids, user_ids


async def fill_postgres(
    url: str, names: list[str], mail_count: int
) -> tuple[dict[str, int], dict[str, int], str]:
    """COPY in chunks, one transaction; then VACUUM ANALYZE, the state autovacuum keeps a live
    database in (the visibility map lets the count be an index-only scan)."""
    import asyncpg

    stamp = now_utc()
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "address",
                records=[(name, "bench", stamp, stamp) for name in [*names, BOX]],
                columns=["name", "source_meta", "created_at", "updated_at"],
            )
            address_ids = {
                row["name"]: int(row["id"]) for row in await conn.fetch("SELECT name, id FROM address")
            }
            await conn.copy_records_to_table(
                "users",
                records=[(user_email_of(name), "bench", stamp, stamp) for name in names],
                columns=["user_email", "password", "created_at", "updated_at"],
            )
            rows = await conn.fetch("SELECT user_email, id FROM users")
            user_ids = {row["user_email"]: int(row["id"]) for row in rows}
            await conn.copy_records_to_table(
                "users_address",
                records=[(user_ids[user_email_of(name)], address_ids[name], stamp) for name in names],
                columns=["user_id", "address_id", "created_at"],
            )
            for batch in chunks(mail_rows(names, mail_count, stamp), FILL_CHUNK):
                await conn.copy_records_to_table(
                    "raw_mails",
                    records=batch,
                    columns=["message_id", "source", "address", "raw", "created_at"],
                )
            await conn.execute(MARK_INDEXED)
        await conn.execute("VACUUM ANALYZE")
        version = str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()
    return address_ids, user_ids, version


async def pg_admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def pg_size(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()


# What the search index (tempmail's mail_search, filled by a background job) has yet to reach:
# the highest mail id against the highest indexed one; None where the table does not exist.
BACKLOG_SQL = (
    "SELECT (SELECT coalesce(max(id), 0) FROM raw_mails)"
    " - (SELECT coalesce(max(mail_id), 0) FROM mail_search)"
)


async def _pg_backlog(url: str) -> int | None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        if await conn.fetchval("SELECT to_regclass('mail_search')") is None:
            return None
        return int(await conn.fetchval(BACKLOG_SQL))
    finally:
        await conn.close()


def search_backlog(dataset: Dataset) -> int | None:
    """Mails tempmail has stored but not indexed for search yet (plain SQL on its database)."""
    if dataset.sqlite_path is None:
        return asyncio.run(_pg_backlog(dataset.url))
    conn = sqlite3.connect(dataset.sqlite_path, timeout=30)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'mail_search'").fetchone() is None:
            return None
        return int(conn.execute(BACKLOG_SQL).fetchone()[0])
    finally:
        conn.close()


def wait_indexed(targets: Targets, timeout: float = 900) -> float:
    """Until every tempmail has indexed for search all the mail it holds: the index is filled
    after a mail is visible (never on the way to the 250), so the work the ingest figure
    leaves must not land on the next figure. Returns the seconds waited."""
    started = time.monotonic()
    for dataset in targets.datasets.values():
        while (search_backlog(dataset) or 0) > 0 and time.monotonic() - started < timeout:
            time.sleep(0.5)
    return time.monotonic() - started


def build_sqlite(args: argparse.Namespace, tmp: Path) -> Dataset:
    path = tmp / "bench.db"
    url = f"sqlite:///{path}"
    upgrade_schema(url, args.env)
    names = address_names(args.addresses)
    started = time.perf_counter()
    address_ids, user_ids = fill_sqlite(path, names, args.mails)
    seconds = time.perf_counter() - started
    mailboxes = sign_mailboxes(names, address_ids, user_ids)
    size = sum(p.stat().st_size for p in tmp.glob("bench.db*"))
    return Dataset(
        "sqlite",
        url,
        mailboxes,
        box_jwt(address_ids),
        seconds,
        size,
        sqlite_path=path,
        server_version=f"SQLite {sqlite3.sqlite_version}",
    )


def build_postgres(args: argparse.Namespace, created: list[str]) -> Dataset:
    database = f"side_by_side_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg_admin(args.pg_url, f'CREATE DATABASE "{database}"'))
    created.append(database)
    url = f"{args.pg_url.rsplit('/', 1)[0]}/{database}"
    upgrade_schema(url, args.env)
    names = address_names(args.addresses)
    started = time.perf_counter()
    address_ids, user_ids, version = asyncio.run(fill_postgres(url, names, args.mails))
    seconds = time.perf_counter() - started
    mailboxes = sign_mailboxes(names, address_ids, user_ids)
    size = asyncio.run(pg_size(url))
    return Dataset(
        "postgresql",
        url,
        mailboxes,
        box_jwt(address_ids),
        seconds,
        size,
        server_version=f"PostgreSQL {version}",
    )


# --- starting the servers -------------------------------------------------------------------


def workers_supported() -> bool:
    """`--workers` is new in `tempmail serve`: passed only when this checkout has it."""
    result = subprocess.run(
        [PYTHON, "-m", "tempmail", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return "--workers" in result.stdout


def start_floor(servers: Servers, module: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    argv = [
        PYTHON,
        "-m",
        "uvicorn",
        "--app-dir",
        str(FLOORS),
        f"{module}:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *UVICORN_FLAGS,
    ]
    server = servers.start(f"floor-{module}", argv, {**os.environ, **(env or {})}, http_port=port)
    wait_ready(server)
    return server


def start_smtp_floor(servers: Servers) -> Server:
    port = free_port()
    argv = [PYTHON, str(FLOORS / "smtp_noop.py"), "--port", str(port)]
    server = servers.start("floor-smtp_noop", argv, dict(os.environ), smtp_port=port)
    wait_ready(server)
    return server


def start_tempmail(
    servers: Servers, dataset: Dataset, args: argparse.Namespace, workers: int | None
) -> Server:
    http_port, smtp_port = free_port(), free_port()
    argv = [
        PYTHON,
        "-m",
        "tempmail",
        "serve",
        "--http",
        f"127.0.0.1:{http_port}",
        "--smtp",
        f"127.0.0.1:{smtp_port}",
    ]
    if workers is not None:
        argv += ["--workers", str(workers)]
    env = tempmail_env(dataset.url, args.env)
    server = servers.start(f"tempmail-{dataset.backend}", argv, env, http_port=http_port, smtp_port=smtp_port)
    wait_ready(server, "/health_check")
    return server


# --- wrk ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpFigure:
    """One URL under wrk, and the floor it is compared with (None: printed on its own)."""

    label: str
    group: str
    path: str
    auth: str  # "address", "user", "admin" or "none": the headers each request carries
    floor: str | None  # "page" or "hello"


HTTP_FIGURES = (
    HttpFigure("page /api/mails", "page", "/api/mails?limit=20&offset=0", "address", "page"),
    HttpFigure("page /user_api/mails", "page", "/user_api/mails?limit=20&offset=0", "user", "page"),
    HttpFigure("page /admin/mails (all)", "page", "/admin/mails?limit=20&offset=0", "admin", "page"),
    HttpFigure("deep /admin/mails@10000", "deep", "/admin/mails?limit=20&offset=10000", "admin", None),
    HttpFigure("health /health_check", "health", "/health_check", "none", "hello"),
)

# The same headers go to the floor and to tempmail, so both parse the same bytes. The floor
# reads only x-bench-address (no header: the page of every mail, which is what /admin/mails is).
LUA_HEADERS = {
    "address": '{["Authorization"] = "Bearer " .. e[2], ["x-bench-address"] = e[1]}',
    "user": '{["x-user-token"] = e[3], ["x-bench-address"] = e[1]}',
    "admin": '{["x-admin-auth"] = "' + ADMIN_PASSWORD + '"}',
    "none": "{}",
}

LUA_TEMPLATE = """\
local entries = {
%(entries)s
}
local path = "%(path)s"
local threads = {}
local started = 0
function setup(thread)
  started = started + 1
  thread:set("seed", started)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(4242 + seed)
end
function request()
  local e = entries[math.random(#entries)]
  return wrk.format("GET", path, %(headers)s)
end
"""

# Only for the diagnosis after a run with errors: wrk is faster without a response callback.
LUA_DIAGNOSIS = """\
codes = {}
samples = {}
report = ""
function response(status, headers, body)
  if status > 299 then
    local key = tostring(status)
    if codes[key] == nil then
      codes[key] = 0
      samples[key] = string.gsub(string.sub(body, 1, 400), "%s+", " ")
    end
    codes[key] = codes[key] + 1
    local parts = {}
    for code, count in pairs(codes) do
      parts[#parts + 1] = "status " .. code .. " x" .. count .. ": " .. samples[code]
    end
    report = table.concat(parts, "\\n")
  end
end
function done(summary, latency, requests)
  io.write("BEGIN-STATUSES\\n")
  for _, thread in ipairs(threads) do
    io.write(thread:get("report"), "\\n")
  end
  io.write("END-STATUSES\\n")
end
"""


def lua_script(mailboxes: Sequence[Mailbox], figure: HttpFigure, diagnose: bool) -> str:
    """A random address per request: every page comes from another part of the index, as
    with real clients, rather than one page served from a warm cache."""
    entries = ",\n".join(f'{{"{m.name}", "{m.address_jwt}", "{m.user_jwt}"}}' for m in mailboxes)
    script = LUA_TEMPLATE % {"entries": entries, "path": figure.path, "headers": LUA_HEADERS[figure.auth]}
    return script + (LUA_DIAGNOSIS if diagnose else "")


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    statuses: str = ""

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str) -> WrkResult:
    """req/s, p50 and p99, and both kinds of error wrk counts (4xx/5xx, socket errors)."""

    def number(pattern: str) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else 0.0

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        return float(found.group(1)) * _UNITS[found.group(2)] if found else float("nan")

    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    block = re.search(r"BEGIN-STATUSES\n(.*?)END-STATUSES", output, re.DOTALL)
    return WrkResult(
        rps=number(r"Requests/sec:\s+([\d.]+)"),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=int(number(r"(\d+) requests in")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        statuses=merge_statuses(block.group(1) if block else ""),
    )


def merge_statuses(block: str) -> str:
    """`status 503 x12: body` lines, one per wrk thread and code, summed per code."""
    counts: dict[str, int] = {}
    samples: dict[str, str] = {}
    for line in block.splitlines():
        found = re.match(r"status (\d+) x(\d+): ?(.*)", line)
        if found:
            code = found.group(1)
            counts[code] = counts.get(code, 0) + int(found.group(2))
            samples.setdefault(code, found.group(3))
    return "\n".join(f"status {code} x{counts[code]}: {samples[code]}" for code in sorted(counts))


def run_wrk(port: int, script: Path, args: argparse.Namespace, seconds: float) -> WrkResult:
    argv = [
        tool("wrk"),
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(script),
        f"http://127.0.0.1:{port}",
    ]
    result = run_client(argv, timeout=seconds + 60)
    if result.returncode != 0 or "Requests/sec" not in result.stdout:
        raise RuntimeError(
            f"wrk failed ({result.returncode}): {result.stderr.strip() or result.stdout[-500:]}"
        )
    return parse_wrk(result.stdout)


def measure_http(
    server: Server, figure: HttpFigure, mailboxes: Sequence[Mailbox], args: argparse.Namespace, tmp: Path
) -> WrkResult:
    """Warm-up, the measured run, and when it had errors a short second run that records their
    status codes and bodies (the response callback slows wrk, so the measured run has none)."""
    script = tmp / "load.lua"
    script.write_text(lua_script(mailboxes, figure, diagnose=False))
    assert server.http_port is not None
    if args.warmup > 0:
        run_wrk(server.http_port, script, args, args.warmup)
    result = run_wrk(server.http_port, script, args, args.duration)
    if result.errors:
        script.write_text(lua_script(mailboxes, figure, diagnose=True))
        rerun = min(args.duration, 5)
        diagnosis = run_wrk(server.http_port, script, args, rerun)
        seen = diagnosis.statuses or "none: the errors did not come back"
        result = WrkResult(**{**result.__dict__, "statuses": f"in a {rerun}-second re-run: {seen}"})
    return result


# --- SMTP ingest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    mails: int
    sent_seconds: float  # smtp-source start to exit (its last 250)
    visible_seconds: float | None  # smtp-source start to the count in the API; None for floors
    stored: int | None
    returncode: int
    stderr: str

    @property
    def sent_rate(self) -> float:
        return self.mails / self.sent_seconds

    @property
    def visible_rate(self) -> float | None:
        return None if self.visible_seconds is None else self.mails / self.visible_seconds

    @property
    def errors(self) -> int:
        missing = 0 if self.stored is None else max(0, self.mails - self.stored)
        return missing + (self.returncode != 0)


def smtp_source_argv(port: int, args: argparse.Namespace) -> list[str]:
    """One recipient per mail; no `-d`, so every mail is a session of its own (as from the MTAs
    of the world), `-s` of them at once."""
    return [
        tool("smtp-source"),
        "-s",
        str(args.sessions),
        "-m",
        str(args.smtp_mails),
        "-l",
        str(args.smtp_size),
        "-f",
        SENDER,
        "-t",
        BOX,
        f"127.0.0.1:{port}",
    ]


def ingest_floor(server: Server, args: argparse.Namespace) -> IngestResult:
    assert server.smtp_port is not None
    started = time.perf_counter()
    result = run_client(smtp_source_argv(server.smtp_port, args), timeout=600)
    seconds = time.perf_counter() - started
    return IngestResult(args.smtp_mails, seconds, None, None, result.returncode, result.stderr.strip())


class BoxCounter:
    """`count` of box@'s first page, as a client polling its inbox sees it (keep-alive)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn: http.client.HTTPConnection | None = None

    def count(self) -> int:
        for _attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request("GET", "/api/mails?limit=1&offset=0", headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                if response.status == 200:
                    return int(json.loads(body)["count"])
                raise RuntimeError(f"count poll answered {response.status}: {body[:300]!r}")
            except (OSError, http.client.HTTPException):
                self.close()
        raise RuntimeError("count poll failed three times in a row")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def ingest_tempmail(server: Server, dataset: Dataset, args: argparse.Namespace, tmp: Path) -> IngestResult:
    """The clock runs from smtp-source's start until box@'s count has grown by every mail,
    polled every 20 ms; a thread notes when smtp-source exits (its last 250)."""
    assert server.smtp_port is not None and server.http_port is not None
    counter = BoxCounter(server.http_port, dataset.box_jwt)
    errors = tmp / "smtp-source.err"
    try:
        baseline = counter.count()
        with errors.open("w") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                smtp_source_argv(server.smtp_port, args), stdout=subprocess.DEVNULL, stderr=err
            )
            exited = ExitClock(proc)
            try:
                visible, stored = _poll_until_visible(exited, counter, baseline + args.smtp_mails, started)
                proc.wait(60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    finally:
        counter.close()
    sent = exited.seconds_since(started)
    stderr = errors.read_text(errors="replace").strip()
    return IngestResult(args.smtp_mails, sent, visible, stored - baseline, proc.returncode, stderr)


class ExitClock:
    """When a process exited, to the polling loop's precision or better: a thread waits on it."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.at: float | None = None
        self._thread = threading.Thread(target=self._wait, args=(proc,), daemon=True)
        self._thread.start()

    def _wait(self, proc: subprocess.Popen[bytes]) -> None:
        proc.wait()
        self.at = time.perf_counter()

    def seconds_since(self, started: float) -> float:
        self._thread.join(60)
        return (self.at if self.at is not None else time.perf_counter()) - started


def _poll_until_visible(
    exited: ExitClock, counter: BoxCounter, wanted: int, started: float
) -> tuple[float | None, int]:
    """(seconds until the count reached `wanted`, or None; the last count seen); gives up when
    the count has stood still for 30 s after smtp-source ended, or after INGEST_LIMIT_SECONDS."""
    last, moved = -1, time.perf_counter()
    while True:
        count = counter.count()
        now = time.perf_counter()
        if count >= wanted:
            return now - started, count
        if count != last:
            last, moved = count, now
        if (exited.at is not None and now - moved > 30) or now - started > INGEST_LIMIT_SECONDS:
            return None, count
        time.sleep(POLL_SECONDS)


# --- the page check -------------------------------------------------------------------------


def request_headers(figure: HttpFigure, mailbox: Mailbox) -> dict[str, str]:
    """What the Lua script sends (LUA_HEADERS), for one request made from here."""
    return {
        "address": {"Authorization": f"Bearer {mailbox.address_jwt}", "x-bench-address": mailbox.name},
        "user": {"x-user-token": mailbox.user_jwt, "x-bench-address": mailbox.name},
        "admin": {"x-admin-auth": ADMIN_PASSWORD},
        "none": {},
    }[figure.auth]


def _page_of(server: Server, figure: HttpFigure, mailbox: Mailbox) -> tuple[int, Any]:
    assert server.http_port is not None
    status, body = http_get(server.http_port, figure.path, request_headers(figure, mailbox))
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")[:300]


def _comparable(page: Any) -> Any:
    """The page without created_at, which is the second each backend was filled in."""
    if isinstance(page, dict) and isinstance(page.get("results"), list):
        rows = [{k: v for k, v in row.items() if k != "created_at"} for row in page["results"]]
        return {"results": rows, "count": page.get("count")}
    return page


def check_pages(targets: Targets, args: argparse.Namespace) -> list[str]:
    """Before the clock: every target answers 200, and tempmail's page is the floor's page
    (same rows, same count), so the ratio compares the same work."""
    lines = []
    for figure in HTTP_FIGURES:
        if figure.group not in args.only:
            continue
        floor = targets.page if figure.floor == "page" else None
        expected = None
        if floor is not None and targets.floor_mailboxes:
            expected = _page_of(floor, figure, targets.floor_mailboxes[0])
        verdicts = []
        for backend in args.backends:
            status, page = _page_of(targets.tempmail[backend], figure, targets.datasets[backend].mailboxes[0])
            if status != 200:
                verdicts.append(loud(f"{SHORT[backend]} answered {status}: {str(page)[:300]}"))
            elif expected is not None and _comparable(page) != _comparable(expected[1]):
                verdicts.append(loud(f"{SHORT[backend]} serves another page than the floor"))
            else:
                verdicts.append(f"{SHORT[backend]} 200" + (", same page as the floor" if expected else ""))
        lines.append(f"check {figure.label}: " + "; ".join(verdicts))
    return lines


# --- rounds ---------------------------------------------------------------------------------


@dataclass
class Targets:
    """What each figure runs on: the floors, and tempmail per backend with its data set."""

    hello: Server | None
    page: Server | None
    smtp: Server | None
    tempmail: dict[str, Server]
    datasets: dict[str, Dataset]
    floor_mailboxes: list[Mailbox]

    def all(self) -> list[Server]:
        floors = [s for s in (self.hello, self.page, self.smtp) if s is not None]
        return floors + list(self.tempmail.values())


Results = dict[str, dict[str, list[Any]]]


@dataclass
class Outcome:
    """Everything measured, and what could not be: a server that died costs its own cells, not
    the whole run."""

    results: Results = field(default_factory=dict)
    memory: dict[str, Memory] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)

    def fail(self, text: str, server: Server) -> None:
        """Recorded and printed; the first failure of a dead server carries its exit and log."""
        if server.proc.poll() is not None and server.name not in self.gone:
            self.gone.add(server.name)
            text += (
                f"\n{server.name} exited with {server.proc.returncode}; its log ends:\n{server.log_tail(40)}"
            )
        self.failures.append(text)
        say(loud(text))

    def add(self, label: str, key: str, result: Any) -> None:
        self.results.setdefault(label, {}).setdefault(key, []).append(result)


def attempt(outcome: Outcome, server: Server, what: str, measure: Callable[[], T]) -> T | None:
    """`measure()`, or None and a loud failure if it failed or its server is gone."""
    if server.proc.poll() is not None:
        outcome.fail(f"{what}: skipped, {server.name} is gone (exit {server.proc.returncode})", server)
        return None
    try:
        return measure()
    except RuntimeError as exc:
        outcome.fail(f"{what}: {exc}", server)
        return None


def run_rounds(targets: Targets, args: argparse.Namespace, tmp: Path) -> Outcome:
    outcome = Outcome()
    for round_no in range(1, args.rounds + 1):
        say(f"\n== round {round_no}/{args.rounds}")
        for figure in HTTP_FIGURES:
            if figure.group in args.only:
                _http_round(figure, targets, args, tmp, outcome)
            if figure.label.startswith("page /admin") and "page" in args.only:
                live = [server for server in targets.all() if server.proc.poll() is None]
                outcome.memory = {server.name: memory_of(server) for server in live}
        if "ingest" in args.only:
            _ingest_round(targets, args, tmp, outcome)
    return outcome


def _http_round(
    figure: HttpFigure, targets: Targets, args: argparse.Namespace, tmp: Path, outcome: Outcome
) -> None:
    floor = {"page": targets.page, "hello": targets.hello}.get(figure.floor or "")
    plan: list[tuple[str, Server, list[Mailbox]]] = []
    if floor is not None:
        plan.append(("floor", floor, targets.floor_mailboxes))
    plan += [(b, targets.tempmail[b], targets.datasets[b].mailboxes) for b in args.backends]
    for key, server, mailboxes in plan:
        wait_indexed(targets)
        wait_idle(targets.all())
        result = attempt(
            outcome,
            server,
            f"{figure.label} / {key}",
            functools.partial(measure_http, server, figure, mailboxes, args, tmp),
        )
        if result is None:
            continue
        outcome.add(figure.label, key, result)
        say(f"  {figure.label:<26} {SHORT[key]:<7} {describe_http(result)}")
        if result.errors:
            say(loud(f"{figure.label} on {server.name}: {error_text(result)}"))


def _ingest_round(targets: Targets, args: argparse.Namespace, tmp: Path, outcome: Outcome) -> None:
    label = f"ingest {args.smtp_mails} mails"
    plan: list[tuple[str, Server, Callable[[], IngestResult]]] = []
    if targets.smtp is not None:
        plan.append(("floor", targets.smtp, functools.partial(ingest_floor, targets.smtp, args)))
    for backend in args.backends:
        server, dataset = targets.tempmail[backend], targets.datasets[backend]
        plan.append((backend, server, functools.partial(ingest_tempmail, server, dataset, args, tmp)))
    for key, server, measure in plan:
        wait_indexed(targets)
        wait_idle(targets.all())
        result = attempt(outcome, server, f"{label} / {key}", measure)
        if result is None:
            continue
        outcome.add(label, key, result)
        say(f"  {label:<26} {SHORT[key]:<7} {describe_ingest(result)}")
        if result.errors:
            say(loud(f"ingest on {server.name}: {ingest_error_text(result)}"))


# --- reporting ------------------------------------------------------------------------------


def loud(text: str) -> str:
    return f"!!! ERRORS: {text}"


def describe_http(result: WrkResult) -> str:
    errors = f"  ERRORS {result.errors}" if result.errors else ""
    return f"{result.rps:9.1f} req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms{errors}"


def describe_ingest(result: IngestResult) -> str:
    text = f"{result.sent_rate:7.1f} msgs/s until the last 250 ({result.sent_seconds:.2f} s)"
    if result.visible_rate is not None:
        text += f", {result.visible_rate:7.1f} msgs/s until visible ({result.visible_seconds:.2f} s)"
    elif result.stored is not None:
        text += f", NOT all visible: {result.stored} of {result.mails} counted"
    if result.returncode != 0:
        text += f"  smtp-source exit {result.returncode}: {result.stderr[-300:]}"
    return text


def error_text(result: WrkResult) -> str:
    text = f"{result.non_2xx} non-2xx responses, {result.socket_errors} socket errors of {result.requests}"
    return text + ("\n" + result.statuses if result.statuses else "")


def ingest_error_text(result: IngestResult) -> str:
    exit_text = f"smtp-source exit {result.returncode}: {result.stderr[-500:]}"
    return f"stored {result.stored} of {result.mails}; {exit_text}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float], fmt: str) -> str:
    """The median, and the rounds' range when there were several: noise made visible."""
    text = fmt.format(median(values))
    if len(values) > 1:
        text += " [" + fmt.format(min(values)) + "-" + fmt.format(max(values)) + "]"
    return text


def http_cell(runs: list[WrkResult]) -> str:
    errors = sum(r.errors for r in runs)
    cell = f"{spread([r.rps for r in runs], '{:.0f}')} req/s p99 {median([r.p99_ms for r in runs]):.1f} ms"
    return cell + (f" ERR {errors}" if errors else "")


def ingest_cell(runs: list[IngestResult]) -> str:
    visible = [r.visible_rate for r in runs if r.visible_rate is not None]
    sent = spread([r.sent_rate for r in runs], "{:.0f}")
    errors = sum(r.errors for r in runs)
    if runs[0].visible_seconds is None and runs[0].stored is None:
        cell = f"{sent} msgs/s"
    else:
        seen = spread(visible, "{:.0f}") if visible else "never all"
        cell = f"{seen} msgs/s visible, {sent} at last 250"
    return cell + (f" ERR {errors}" if errors else "")


def rate_of(run: Any) -> float | None:
    """What a ratio divides: req/s, or msgs/s until visible (tempmail) / until sent (floor)."""
    if isinstance(run, WrkResult):
        return run.rps
    if run.visible_seconds is None and run.stored is None:
        return float(run.sent_rate)
    rate: float | None = run.visible_rate
    return rate


def ratio(runs: list[Any], floor_runs: list[Any] | None) -> str:
    """The medians' ratio; with rounds taken in turn, round-by-round ratios give the range."""
    if not floor_runs:
        return "-"
    mine = [r for r in (rate_of(run) for run in runs) if r is not None]
    floors = [r for r in (rate_of(run) for run in floor_runs) if r is not None]
    if not mine or not floors:
        return "n/a"
    dirty = any(run.errors for run in [*runs, *floor_runs])
    return f"{median(mine) / median(floors):.2f}x" + (" ERR" if dirty else "")


def print_table(results: Results, args: argparse.Namespace) -> None:
    columns = ["floor", *args.backends]
    header = ["figure", *(f"tempmail-{SHORT[c]}" if c != "floor" else "floor" for c in columns)]
    header += [f"{SHORT[b]}/floor" for b in args.backends]
    rows = [header]
    for label, by_target in results.items():
        cells = [label]
        for key in columns:
            runs = by_target.get(key)
            if not runs:
                cells.append("-")
            elif isinstance(runs[0], WrkResult):
                cells.append(http_cell(runs))
            else:
                cells.append(ingest_cell(runs))
        cells += [ratio(by_target.get(b, []), by_target.get("floor")) for b in args.backends]
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    say("\n== figures (median of rounds [range]; ratio = tempmail / floor, medians)")
    for row in rows:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def print_errors(outcome: Outcome) -> None:
    lines = list(outcome.failures)
    for label, by_target in outcome.results.items():
        for key, runs in by_target.items():
            for run in runs:
                if run.errors:
                    detail = error_text(run) if isinstance(run, WrkResult) else ingest_error_text(run)
                    lines.append(f"{label} / {key}: {detail}")
    if lines:
        say("\n" + "!" * 78)
        say(loud(f"{len(lines)} measurement(s) failed or had errors; the figures are not clean:"))
        for line in lines:
            say("  " + line.replace("\n", "\n    "))
        say("!" * 78)
    else:
        say("\nno errors: every response 2xx, no socket errors, every mail counted")


def print_memory(memory: dict[str, Memory]) -> None:
    if not memory:
        return
    say("\n== memory after the page load (the server process and its children)")
    for name, mem in memory.items():
        say(
            f"  {name:<20} {mem.processes} process(es)  VmRSS {mem.rss_kb / 1024:7.1f} MB  "
            f"PSS {mem.pss_kb / 1024:7.1f} MB  peak VmHWM {mem.hwm_kb / 1024:7.1f} MB"
        )


# The start-up lines of a tempmail log (its banner, one line per worker) and a third-party
# deprecation warning printed at import: anything else at LOG_LEVEL=warning is worth a look.
QUIET_LOG_LINES = re.compile(
    r"^(tempmail \S+: HTTP on |worker \d+ of \d+ started "
    r"|.*AuthlibDeprecationWarning|\s+from \._compat import)"
)


def print_log_warnings(servers: Iterable[Server]) -> None:
    for server in servers:
        if not server.name.startswith("tempmail"):
            continue
        lines = server.log.read_text(errors="replace").splitlines()
        noisy = [line for line in lines if not QUIET_LOG_LINES.match(line)]
        if noisy:
            say(f"\n== {server.name} log: {len(noisy)} line(s) beyond start-up (last 20)")
            for line in noisy[-20:]:
                say("  " + line)
        else:
            say(f"\n== {server.name} log: nothing beyond start-up")


def machine_facts(args: argparse.Namespace, workers: int | None, supported: bool) -> list[str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    wrk_version = run_client([tool("wrk"), "-v"], timeout=10).stdout.splitlines()[:1]
    if workers is not None:
        used = f"--workers {workers}"
    elif args.workers is not None:
        used = f"tempmail's default (--workers {args.workers} asked, but `tempmail serve` has no --workers)"
    else:
        used = "tempmail's default" + (
            "" if supported else " (`tempmail serve` has no --workers: one process)"
        )
    return [
        f"nproc {len(os.sched_getaffinity(0))} (cpu_count {os.cpu_count()}), {model}",
        f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"python {sys.version.split()[0]}, {' '.join(wrk_version)}",
        f"tempmail workers: {used}",
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s (+{args.warmup:g}s warm-up), "
        f"random address per request; "
        f"smtp-source -s {args.sessions} -m {args.smtp_mails} -l {args.smtp_size}",
    ]


# --- main -----------------------------------------------------------------------------------


def build_datasets(args: argparse.Namespace, tmp: Path, pg_created: list[str]) -> dict[str, Dataset]:
    """The SQLite file is built even without the sqlite backend when the page floor needs it."""
    datasets: dict[str, Dataset] = {}
    if "sqlite" in args.backends or "page" in args.only:
        datasets["sqlite"] = build_sqlite(args, tmp)
    if "postgresql" in args.backends:
        datasets["postgresql"] = build_postgres(args, pg_created)
    for dataset in datasets.values():
        role = "" if dataset.backend in args.backends else " (for the page floor only)"
        say(
            f"filled {dataset.backend}{role}: {args.mails} mails over {args.addresses} addresses (+ {BOX}) "
            f"in {dataset.fill_seconds:.1f} s ({args.mails / max(dataset.fill_seconds, 1e-9):.0f} rows/s), "
            f"database {dataset.size_bytes / 2**20:.0f} MB, {dataset.server_version}"
        )
    return datasets


def start_targets(
    args: argparse.Namespace, servers: Servers, datasets: dict[str, Dataset], workers: int | None
) -> Targets:
    hello = start_floor(servers, "hello") if "health" in args.only else None
    page = None
    if "page" in args.only:
        sqlite_path = datasets["sqlite"].sqlite_path
        page = start_floor(servers, "page", {"BENCH_SQLITE_PATH": str(sqlite_path)})
    smtp = start_smtp_floor(servers) if "ingest" in args.only else None
    tempmail = {b: start_tempmail(servers, datasets[b], args, workers) for b in args.backends}
    floor_mailboxes = datasets["sqlite"].mailboxes if "sqlite" in datasets else []
    return Targets(hello, page, smtp, tempmail, datasets, floor_mailboxes)


def run(args: argparse.Namespace, tmp: Path, servers: Servers, pg_created: list[str]) -> None:
    supported = workers_supported()
    workers = args.workers if supported else None
    if args.workers is not None and not supported:
        say(f"note: `tempmail serve --help` lists no --workers; --workers {args.workers} is not passed")
    facts = machine_facts(args, workers, supported)
    for line in facts:
        say(line)
    datasets = build_datasets(args, tmp, pg_created)
    targets = start_targets(args, servers, datasets, workers)
    for server in targets.tempmail.values():
        count = len(process_tree(server.proc.pid))
        facts.append(f"{server.name}: {count} process(es) (the server and its workers)")
        say(facts[-1])
    if "deep" in args.only and args.mails < 10_020:
        say(f"note: offset 10000 is past the last page with {args.mails} mails: the deep page is empty")
    for line in check_pages(targets, args):
        say(line)
    outcome = run_rounds(targets, args, tmp)
    say("\n== machine")
    for line in facts:
        say("  " + line)
    say(f"  load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for dataset in datasets.values():
        say(
            f"  {dataset.backend}: {args.mails} mails, filled in {dataset.fill_seconds:.1f} s, "
            f"{dataset.size_bytes / 2**20:.0f} MB"
        )
    print_table(outcome.results, args)
    if "page" in args.only:
        say("  /user_api/mails: one user per address, bound to it (users, users_address rows by plain SQL)")
        say("  /admin/mails (all): every mail, newest first, with the count of all; its floor is page.py")
        say("  without x-bench-address, the same two queries")
    print_memory(outcome.memory)
    print_log_warnings(targets.all())
    print_errors(outcome)
    say("Figures measured: see README's Performance section")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    require_tools()
    tmp = Path(tempfile.mkdtemp(prefix="side-by-side-"))
    servers = Servers(tmp)
    pg_created: list[str] = []
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # Ctrl-C must unwind even when started from a shell that made SIGINT ignored (`cmd &`).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run(args, tmp, servers, pg_created)
    except KeyboardInterrupt:
        say("\ninterrupted: stopping the servers")
        return 130
    except RuntimeError as exc:
        say(f"\nside_by_side: {exc}")
        return 1
    finally:
        servers.stop_all()
        _clean_up(args, tmp, pg_created)
    return 0


def _exit_on_signal(signum: int, _frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C, through the finally that stops every server."""
    say(f"\nstopped by signal {signum}: stopping the servers")
    raise SystemExit(128 + signum)


def _clean_up(args: argparse.Namespace, tmp: Path, pg_created: list[str]) -> None:
    if args.keep:
        say(
            f"kept {tmp} (logs, SQLite file)"
            + (f" and PG database(s) {', '.join(pg_created)}" if pg_created else "")
        )
        return
    shutil.rmtree(tmp, ignore_errors=True)
    for database in pg_created:
        try:
            asyncio.run(pg_admin(args.pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        except Exception as exc:
            say(f"could not drop PG database {database}: {exc}")


if __name__ == "__main__":
    sys.exit(main())
