"""What tells every process and node that mail was stored or deleted, for the push API.

A client of `GET /api/events` may be connected to any worker of any node, while the mail
arrives over SMTP at another, or is deleted through a third (or by the clean-up, or by the
admin's own SQL). Triggers see every such change, whatever the code path:

- PostgreSQL: statement triggers over the transition tables NOTIFY the channels
  `tempmail_mail_added` / `tempmail_mail_deleted` with the rows' `[[id, address], ...]` as JSON,
  in pieces under NOTIFY's 8 000-byte limit. A notification is delivered when (and only if)
  the transaction commits, so a listener never hears of a mail it cannot read yet. One NOTIFY
  per statement piece, not per row: a group commit of a burst is a single notification.
- SQLite (the workers of one server on one file): new mail needs no record, since one writer
  at a time makes ids grow in commit order, and a reader tails `raw_mails` by id. Deletions
  leave no row to tail, so a row trigger logs each one in `mail_deletions`, which readers tail
  by `seq` and the hourly upkeep prunes.

A mail's id is its event id (`Last-Event-ID` resumes from it) and will be its IMAP UID: it must
never be handed out twice. SQLite gave a new mail the id of the newest one if that had been
deleted (max(rowid) + 1), so `raw_mails` is rebuilt here with AUTOINCREMENT, as 0002 did for
addresses and users: a copy of the table, its indexes and triggers made again from their own
definitions. It takes as long as copying the table once (seconds at a hundred thousand mails).
PostgreSQL's sequences never go back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_REBUILT = (
    "CREATE TABLE raw_mails_rebuilt ("
    " id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, message_id TEXT, source TEXT, address TEXT,"
    " raw TEXT, raw_blob BLOB, metadata TEXT, created_at DATETIME NOT NULL)"
)
_SQLITE_COPY = (
    "INSERT INTO raw_mails_rebuilt (id, message_id, source, address, raw, raw_blob, metadata, created_at)"
    " SELECT id, message_id, source, address, raw, raw_blob, metadata, created_at FROM raw_mails ORDER BY id"
)
SQLITE_UPGRADE = (
    "CREATE TABLE IF NOT EXISTS mail_deletions ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, mail_id INTEGER NOT NULL, address TEXT,"
    " deleted_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "CREATE INDEX IF NOT EXISTS idx_mail_deletions_deleted_at ON mail_deletions (deleted_at)",
    "CREATE TRIGGER IF NOT EXISTS mail_deletions_logged AFTER DELETE ON raw_mails BEGIN"
    " INSERT INTO mail_deletions (mail_id, address) VALUES (OLD.id, OLD.address); END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS mail_deletions_logged",
    "DROP TABLE IF EXISTS mail_deletions",
)

# Rows of one notification: each [id, "address"] is at most ~540 bytes of JSON (an address of
# 512 characters), well under 8 000 bytes for a piece of this many bytes of addresses.
_PIECE_BYTES = 6000
_NOTIFY = (
    "PERFORM pg_notify(TG_ARGV[0], piece) FROM ("
    " SELECT json_agg(json_build_array(id, address) ORDER BY id)::text AS piece"
    " FROM (SELECT id, address,"
    f" sum(coalesce(octet_length(address), 4) + 24) OVER (ORDER BY id) / {_PIECE_BYTES} AS part"
    " FROM changed) AS numbered GROUP BY part) AS pieces;"
)
POSTGRESQL_UPGRADE = (
    "CREATE OR REPLACE FUNCTION tempmail_notify_mails() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN {_NOTIFY} RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER mail_events_added AFTER INSERT ON raw_mails"
    " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
    " EXECUTE FUNCTION tempmail_notify_mails('tempmail_mail_added')",
    "CREATE OR REPLACE TRIGGER mail_events_deleted AFTER DELETE ON raw_mails"
    " REFERENCING OLD TABLE AS changed FOR EACH STATEMENT"
    " EXECUTE FUNCTION tempmail_notify_mails('tempmail_mail_deleted')",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS mail_events_deleted ON raw_mails",
    "DROP TRIGGER IF EXISTS mail_events_added ON raw_mails",
    "DROP FUNCTION IF EXISTS tempmail_notify_mails()",
)


def _sqlite_autoincrement() -> None:
    """`raw_mails` again, with AUTOINCREMENT; its indexes and triggers (0004, 0006) as they were."""
    bind = op.get_bind()
    table = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'raw_mails'")
    if "AUTOINCREMENT" in (table.scalar() or "").upper():
        return
    dependents = [
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'raw_mails' AND type IN ('index', 'trigger')"
            " AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    for statement in (
        _SQLITE_REBUILT,
        _SQLITE_COPY,
        "DROP TABLE raw_mails",
        "ALTER TABLE raw_mails_rebuilt RENAME TO raw_mails",
        *dependents,
    ):
        op.execute(statement)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not postgresql:
        _sqlite_autoincrement()
    for statement in POSTGRESQL_UPGRADE if postgresql else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    """The log and the notifications go; SQLite's ids stay never reused."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DOWNGRADE if postgresql else SQLITE_DOWNGRADE:
        op.execute(statement)
