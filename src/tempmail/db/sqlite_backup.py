"""Whole-file work on a SQLite database, for `tempmail backup` and `tempmail restore`.

A copy is made with SQLite's online backup API, in one step: it reads one snapshot (WAL
included) while the server keeps writing, which a copy of the file (and its -wal) could not.
Every copy is left self-contained, in rollback-journal mode with no -wal beside it, so that it
is one file to keep, move or open. Replacing a live database is refused: SQLite lets a
connection leave WAL mode only when no other connection has the file open, which is exactly
the test for "no server holds it".
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
# Files SQLite keeps beside a database in WAL mode; stale ones would be applied to a new file.
_COMPANIONS = ("-wal", "-shm")
_BUSY_TIMEOUT_SECONDS = 30


class DatabaseInUse(Exception):
    """Another connection (a running server) has the database open."""


def is_sqlite_file(path: Path) -> bool:
    """Whether `path` starts as every SQLite database does."""
    with path.open("rb") as file:
        return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _open_existing(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection to a database that must exist (plain `connect` would create an empty one)."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=timeout)


def copy(source: Path, target: Path) -> None:
    """Write a consistent, self-contained copy of `source` to `target` (overwritten).

    Raises sqlite3.DatabaseError when `source` is not a database."""
    with (
        contextlib.closing(_open_existing(source, _BUSY_TIMEOUT_SECONDS)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    self_contain(target)


def self_contain(path: Path) -> None:
    """Fold any WAL into `path`, leave it in rollback-journal mode, and flush it to disk."""
    with contextlib.closing(_open_existing(path, _BUSY_TIMEOUT_SECONDS)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    _fsync(path)


def take_over(path: Path) -> None:
    """Make sure no one else has `path` open (else DatabaseInUse), and fold its WAL back in, so
    that nothing beside it still belongs to it."""
    try:
        with contextlib.closing(_open_existing(path, 0)) as conn:
            mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseInUse(str(path)) from exc
        raise
    if str(mode).lower() != "delete":
        raise DatabaseInUse(str(path))


def replace(new: Path, target: Path) -> None:
    """Put the file `new` in place of the database `target`, atomically (one rename on one file
    system), once the companions of the old one are gone."""
    for suffix in _COMPANIONS:
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(new, target)
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
