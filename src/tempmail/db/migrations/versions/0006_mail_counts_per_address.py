"""Each address's number of mails, kept by triggers, for the count on its first page; and on
SQLite the number of all mails, as migration 0005 keeps it on PostgreSQL.

Every inbox poll shows how many mails the address has. Counted from the (address, id) index,
that is a walk of one index entry per mail: flat at ten mails, 50 µs a poll at a thousand on
SQLite, which made the first page's cost grow with the inbox (issue 15, goal 3). Here it is one
primary-key lookup, whatever the size.

One row per address string that has mail (known or not: mail for an address not created yet is
counted too, so creating it later needs nothing); a row is dropped when its count reaches zero,
so the table holds only addresses with mail. Kept exact by triggers on every insert, delete and
(PostgreSQL) truncate of `raw_mails`, whatever the code path (group commits, the clean-up's
batches, an address deleted with its mail). `raw_mails.address` is never updated by tempmail, so
no update trigger. On SQLite, row triggers (the upsert of one row per mail is a few µs inside
the commit); on PostgreSQL, statement triggers over the transition tables, which lock the
counters in address order so that two transactions touching the same addresses queue rather
than deadlock. The table is counted once here, with writers kept out (SQLite: the migration's
write transaction; PostgreSQL: a lock on `raw_mails`); run again, it counts afresh.

The admin's list of every mail counts them all on its first page: on SQLite a walk of the id
index, 2 ms at a million mails (545 pages a second there, its p99 7× the one at ten thousand);
the one-row `raw_mails_count` of 0005, kept by a row trigger per insert and delete, makes it a
lookup too (SQLite has one writer at a time: the row is no point of contention).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE = "CREATE TABLE IF NOT EXISTS mail_counts (address TEXT PRIMARY KEY, mails BIGINT NOT NULL)"
RECOUNT = (
    "DELETE FROM mail_counts",
    "INSERT INTO mail_counts (address, mails)"
    " SELECT address, count(*) FROM raw_mails WHERE address IS NOT NULL GROUP BY address",
)

SQLITE_UPGRADE = (
    CREATE,
    *RECOUNT,
    "CREATE TABLE IF NOT EXISTS raw_mails_count ("
    " only_row BOOLEAN PRIMARY KEY DEFAULT 1 CHECK (only_row), mails BIGINT NOT NULL)",
    "DELETE FROM raw_mails_count",
    "INSERT INTO raw_mails_count (only_row, mails) SELECT 1, count(*) FROM raw_mails",
    "CREATE TRIGGER IF NOT EXISTS raw_mails_count_added AFTER INSERT ON raw_mails BEGIN"
    " UPDATE raw_mails_count SET mails = mails + 1; END",
    "CREATE TRIGGER IF NOT EXISTS raw_mails_count_removed AFTER DELETE ON raw_mails BEGIN"
    " UPDATE raw_mails_count SET mails = mails - 1; END",
    "CREATE TRIGGER IF NOT EXISTS mail_counts_added AFTER INSERT ON raw_mails"
    " WHEN NEW.address IS NOT NULL BEGIN"
    " INSERT INTO mail_counts (address, mails) VALUES (NEW.address, 1)"
    " ON CONFLICT (address) DO UPDATE SET mails = mails + 1; END",
    "CREATE TRIGGER IF NOT EXISTS mail_counts_removed AFTER DELETE ON raw_mails"
    " WHEN OLD.address IS NOT NULL BEGIN"
    " UPDATE mail_counts SET mails = mails - 1 WHERE address = OLD.address;"
    " DELETE FROM mail_counts WHERE address = OLD.address AND mails <= 0; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS raw_mails_count_removed",
    "DROP TRIGGER IF EXISTS raw_mails_count_added",
    "DROP TABLE IF EXISTS raw_mails_count",
    "DROP TRIGGER IF EXISTS mail_counts_removed",
    "DROP TRIGGER IF EXISTS mail_counts_added",
    "DROP TABLE IF EXISTS mail_counts",
)


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {body} RETURN NULL; END $$"
    )


def _trigger(name: str, event: str, transition: str) -> str:
    return (
        f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON raw_mails {transition}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
    )


POSTGRESQL_UPGRADE = (
    "LOCK TABLE raw_mails IN SHARE ROW EXCLUSIVE MODE",
    CREATE,
    *RECOUNT,
    _function(
        "mail_counts_added",
        "INSERT INTO mail_counts (address, mails)"
        " SELECT address, count(*) FROM added WHERE address IS NOT NULL GROUP BY address ORDER BY address"
        " ON CONFLICT (address) DO UPDATE SET mails = mail_counts.mails + excluded.mails;",
    ),
    _function(
        "mail_counts_removed",
        "PERFORM 1 FROM mail_counts WHERE address IN (SELECT address FROM removed)"
        " ORDER BY address FOR UPDATE;"
        " UPDATE mail_counts SET mails = mail_counts.mails - gone.mails"
        " FROM (SELECT address, count(*) AS mails FROM removed GROUP BY address) AS gone"
        " WHERE mail_counts.address = gone.address;"
        " DELETE FROM mail_counts WHERE mails <= 0 AND address IN (SELECT address FROM removed);",
    ),
    _function("mail_counts_emptied", "DELETE FROM mail_counts;"),
    _trigger("mail_counts_added", "INSERT", "REFERENCING NEW TABLE AS added"),
    _trigger("mail_counts_removed", "DELETE", "REFERENCING OLD TABLE AS removed"),
    _trigger("mail_counts_emptied", "TRUNCATE", ""),
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS mail_counts_emptied ON raw_mails",
    "DROP TRIGGER IF EXISTS mail_counts_removed ON raw_mails",
    "DROP TRIGGER IF EXISTS mail_counts_added ON raw_mails",
    "DROP FUNCTION IF EXISTS mail_counts_emptied()",
    "DROP FUNCTION IF EXISTS mail_counts_removed()",
    "DROP FUNCTION IF EXISTS mail_counts_added()",
    "DROP TABLE IF EXISTS mail_counts",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_UPGRADE if postgresql else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DOWNGRADE if postgresql else SQLITE_DOWNGRADE:
        op.execute(statement)
