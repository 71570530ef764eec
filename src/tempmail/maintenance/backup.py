"""`tempmail backup FILE` and `tempmail restore FILE`: the whole database, into one file and back.

SQLite: the backup is a copy made by SQLite's online backup API (see `tempmail.db.sqlite_backup`),
consistent while the server runs. A restore refuses a database that a server holds, copies the
backup beside the database, migrates the copy when the backup is older than this code (and
refuses one that is newer: this code cannot know its schema), then renames it into place, so
the database is at every moment either the old one or the restored one.

PostgreSQL: the backup is `pg_dump --format=custom`, which reads one snapshot while the server
runs; the restore is `pg_restore --clean --single-transaction`, all or nothing, with the same
revision checks (read from the archive before anything is touched) and the migrations after.
Both tools are run rather than reimplemented: they are the only consistent dump of a live
PostgreSQL, and their archive is what any PostgreSQL operator can also restore by hand. When
they are missing, the error gives the command that installs them and the one to run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tempmail.config import Settings
from tempmail.db import sqlite_backup
from tempmail.db.engine import Database, known_revision

PG_ARCHIVE_HEADER = b"PGDMP"
PG_CLIENT_FIX = "apt-get install postgresql-client"
# How long a PostgreSQL restore waits for the sessions of servers just stopped to end.
SESSIONS_GONE_SECONDS = 10.0


class BackupError(Exception):
    """Why a backup or restore could not be made; one line, for the operator."""


def backup(settings: Settings, file: Path) -> str:
    """Write the configured database to `file` (replaced atomically); the line to print."""
    url = make_url(settings.DATABASE_URL)
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(settings)
        if not source.is_file():
            raise BackupError(f"no database at {source} (DATABASE_URL)")
        with _sibling(file) as temporary:
            try:
                sqlite_backup.copy(source, temporary)
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"{source} is not a SQLite database: {exc}") from exc
            os.replace(temporary, file)
        return f"backed up {source} to {file}"
    libpq, env = _libpq(settings)
    with _sibling(file) as temporary:
        _pg_tool("pg_dump", ["--format=custom", "--no-owner", f"--file={temporary}", libpq], env, file)
        os.replace(temporary, file)
    return f"backed up {url.database} to {file} (pg_dump custom format)"


def restore(settings: Settings, file: Path) -> str:
    """Replace the configured database by the backup in `file`; the line to print."""
    if not file.is_file():
        raise BackupError(f"no backup file at {file}")
    is_sqlite = sqlite_backup.is_sqlite_file(file)
    if make_url(settings.DATABASE_URL).get_backend_name() == "sqlite":
        if not is_sqlite:
            kind = "a PostgreSQL archive" if _is_pg_archive(file) else "not a SQLite database"
            raise BackupError(f"{file} is {kind}; DATABASE_URL names a SQLite database")
        return _restore_sqlite(settings, file)
    if not _is_pg_archive(file):
        kind = "a SQLite database" if is_sqlite else "not a pg_dump custom-format archive"
        raise BackupError(f"{file} is {kind}; DATABASE_URL names a PostgreSQL database")
    return _restore_postgresql(settings, file)


def _restore_sqlite(settings: Settings, file: Path) -> str:
    target = _sqlite_path(settings)
    if target.exists():
        try:
            sqlite_backup.take_over(target)
        except sqlite_backup.DatabaseInUse as exc:
            raise BackupError(f"{target} is in use (a server is running on it); stop it first") from exc
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{target} is not a SQLite database: {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sibling(target) as temporary:
        try:
            sqlite_backup.copy(file, temporary)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{file} is not a readable SQLite database: {exc}") from exc
        revision = asyncio.run(_checked_upgrade(f"sqlite:///{temporary}", settings, file, None))
        sqlite_backup.self_contain(temporary)
        sqlite_backup.replace(temporary, target)
    return f"restored {file} into {target} (revision {revision})"


def _restore_postgresql(settings: Settings, file: Path) -> str:
    libpq, env = _libpq(settings)
    listing = _pg_tool(
        "pg_restore", ["--data-only", "--table=alembic_version", "--file=-", str(file)], env, file
    )
    archived = _archived_revision(listing)
    asyncio.run(_no_other_sessions(settings))
    _pg_tool(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={libpq}",
            str(file),
        ],
        env,
        file,
    )
    revision = asyncio.run(_checked_upgrade(settings.DATABASE_URL, settings, file, archived))
    return f"restored {file} into {make_url(settings.DATABASE_URL).database} (revision {revision})"


async def _checked_upgrade(url: str, settings: Settings, file: Path, archived: str | None) -> str:
    """Check the revision of the restored database (`archived`, when read from the archive
    beforehand, else the database's own), migrate it to this code's, and return that."""
    db = Database(url, settings.DATABASE_POOL_SIZE)
    try:
        current = archived if archived is not None else (await db.version())[0]
        if current is None:
            raise BackupError(f"{file} holds no tempmail database (no schema revision)")
        if not known_revision(current):
            raise BackupError(
                f"{file} is from a newer tempmail (schema revision {current}); upgrade tempmail first"
            )
        await db.upgrade()
        return (await db.version())[1]
    finally:
        await db.close()


async def _no_other_sessions(settings: Settings) -> None:
    """Wait (a little) until no one else is connected to the PostgreSQL database."""
    db = Database(settings.DATABASE_URL, 1)
    try:
        deadline = time.monotonic() + SESSIONS_GONE_SECONDS
        while (count := await db.other_sessions()) > 0:
            if time.monotonic() > deadline:
                raise BackupError(
                    f"{count} other session(s) are connected to the database; stop the servers first"
                )
            await asyncio.sleep(0.2)
    finally:
        await db.close()


def _archived_revision(listing: str) -> str | None:
    """The revision in the data of `alembic_version`, as `pg_restore --data-only` prints it
    (a COPY statement, one line per row, then `\\.`)."""
    lines = iter(listing.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "alembic_version" in line:
            row = next(lines, "\\.")
            return None if row == "\\." else row.split("\t")[0]
    return None


def _pg_tool(name: str, args: list[str], env: dict[str, str], file: Path) -> str:
    """Run a PostgreSQL client tool; its stdout, or BackupError with its last error line."""
    tool = shutil.which(name)
    if tool is None:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client ({PG_CLIENT_FIX}), "
            f"or run it yourself: {name} {_by_hand(name, file)}"
        )
    result = subprocess.run([tool, *args], env={**os.environ, **env}, capture_output=True, text=True)
    if result.returncode != 0:
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(f"{name} failed: {errors[-1] if errors else f'exit code {result.returncode}'}")
    return result.stdout


def _by_hand(name: str, file: Path) -> str:
    if name == "pg_dump":
        return f'--format=custom --no-owner --file={file} "$DATABASE_URL"'
    return f'--clean --if-exists --no-owner --single-transaction --dbname="$DATABASE_URL" {file}'


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database's URL as libpq reads it, without its password (which would show in the
    process list), and the environment that carries the password instead."""
    url = make_url(settings.DATABASE_URL)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, ({"PGPASSWORD": url.password} if url.password else {})


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.DATABASE_URL).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database; there is nothing to back up")
    return Path(database).expanduser()


def _is_pg_archive(file: Path) -> bool:
    with file.open("rb") as handle:
        return handle.read(len(PG_ARCHIVE_HEADER)) == PG_ARCHIVE_HEADER


@contextmanager
def _sibling(file: Path) -> Iterator[Path]:
    """A temporary path in `file`'s folder (so renaming it onto `file` is atomic), removed
    unless the caller renamed it away."""
    if not file.parent.is_dir():
        raise BackupError(f"no folder {file.parent} for {file.name}")
    descriptor, name = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".tmp", dir=file.parent)
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)
