"""How every connection this process opens to a SQLite file that it writes is set up, whether
through SQLAlchemy's engines or straight on `sqlite3` (the commit of received mail).

WAL, so readers never wait for the writer; `synchronous=FULL`, because an SMTP `250` promises
the mail is on disk (NORMAL would let a power cut take back the last commits); and a busy wait
of 30 s for the write lock another connection holds.
"""

from __future__ import annotations

from typing import Any

BUSY_TIMEOUT_MS = 30_000


def make_durable(dbapi_connection: Any) -> None:
    """Apply the settings above to a DB-API connection (stdlib `sqlite3`, or aiosqlite's)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
