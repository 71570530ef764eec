"""The database engine: URL handling, the SQLite connections' set-up, and schema migrations.

One `Database` per process. SQLite runs in WAL mode with `synchronous=FULL` (see
`tempmail.db.sqlite_setup`): an SMTP `250` promises the mail is on disk.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tempmail.db.mail_feed import DELETIONS_KEPT_SECONDS, MailFeed, PostgresFeed, SqliteFeed
from tempmail.db.mail_inserts import MailInserts, PostgresInserts, SqliteInserts
from tempmail.db.reads import PostgresReads, Reads, SqliteReads
from tempmail.db.sqlite_setup import make_durable

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# An arbitrary constant: the PostgreSQL advisory lock that serialises migrations when several
# tempmail nodes start at once against one database.
_MIGRATION_LOCK_ID = 0x7E3A11


def async_url(url: str) -> str:
    """Map the user-facing `sqlite:///` / `postgresql://` URL onto the async drivers."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    make_durable(dbapi_connection)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


class Database:
    """The process's engine, plus what the admin's database routes need to know about it."""

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.pool_size = pool_size
        self._reads: Reads | None = None
        self._mail_inserts: MailInserts | None = None
        options: dict[str, Any] = {"pool_pre_ping": self.dialect == "postgresql"}
        self._sqlite_file: str | None = None
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                self._sqlite_file = str(Path(database).expanduser())
                Path(self._sqlite_file).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 30}
        else:
            options["pool_size"] = pool_size
            options["max_overflow"] = pool_size
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    async def open_reads(self) -> Reads:
        """The hot reads' own connections (see `tempmail.db.reads`), opened once."""
        if self._reads is None:
            if self.dialect == "sqlite":
                if self._sqlite_file is None:
                    raise ValueError(
                        "DATABASE_URL: an in-memory SQLite database cannot be shared; name a file"
                    )
                self._reads = SqliteReads(self._sqlite_file, self.engine.dialect)
            else:
                self._reads = await PostgresReads.open(self.url, self.engine.dialect, self.pool_size)
        return self._reads

    def mail_inserts(self) -> MailInserts:
        """Where received mail is committed (see `tempmail.db.mail_inserts`), made once."""
        if self._mail_inserts is None:
            if self._sqlite_file is not None:
                self._mail_inserts = SqliteInserts(self._sqlite_file)
            else:
                self._mail_inserts = PostgresInserts(self.url)
        return self._mail_inserts

    def mail_feed(self) -> MailFeed:
        """What this process learns of the mail stored and deleted anywhere (see
        `tempmail.db.mail_feed`); one per process, the caller starts and closes it."""
        if self._sqlite_file is not None:
            return SqliteFeed(self._sqlite_file)
        return PostgresFeed(self.url)

    async def close(self) -> None:
        if self._mail_inserts is not None:
            await self._mail_inserts.close()
            self._mail_inserts = None
        if self._reads is not None:
            await self._reads.close()
            self._reads = None
        await self.engine.dispose()

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def upgrade(self) -> None:
        """Apply every pending migration; safe to run from several nodes at once."""
        async with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            await conn.run_sync(_upgrade_sync)

    async def maintain(self) -> None:
        """Hourly upkeep: on SQLite, prune the log of deleted mails the feeds have read (see
        `tempmail.db.mail_feed`), fold the WAL back into the database file (so it does not grow
        without bound under steady ingest) and refresh the planner's statistics."""
        if self.dialect != "sqlite":
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM mail_deletions WHERE deleted_at < datetime('now', :kept)"),
                {"kept": f"-{DELETIONS_KEPT_SECONDS} seconds"},
            )
        async with self.engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            await conn.execute(text("PRAGMA optimize"))

    async def version(self) -> tuple[str | None, str]:
        """(revision the database is at, or None when empty; revision this code expects)."""
        async with self.engine.connect() as conn:
            current = await conn.run_sync(_current_revision)
        return current, _head_revision()

    async def other_sessions(self) -> int:
        """PostgreSQL: how many other sessions are connected to this database (a restore waits
        for none)."""
        async with self.engine.connect() as conn:
            count = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(count or 0)

    async def size_bytes(self) -> int | None:
        """Bytes the database takes on disk, where the engine can tell."""
        async with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                size = await conn.scalar(text("SELECT pg_database_size(current_database())"))
                return int(size) if size is not None else None
            pages = await conn.scalar(text("PRAGMA page_count"))
            page_size = await conn.scalar(text("PRAGMA page_size"))
            return int(pages or 0) * int(page_size or 0)

    def disk_space(self) -> tuple[int, int] | None:
        """(free, total) bytes of the file system the SQLite file lives on: what it may still
        grow into. None on PostgreSQL (its server's disks are not ours to see) or in memory."""
        if self._sqlite_file is None:
            return None
        usage = shutil.disk_usage(Path(self._sqlite_file).parent)
        return usage.free, usage.total


def _upgrade_sync(connection: Connection) -> None:
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def known_revision(revision: str) -> bool:
    """Whether `revision` is one of this code's migrations (a backup of a newer tempmail is not)."""
    try:
        return ScriptDirectory.from_config(_alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown or malformed id
        return False


def _head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head
