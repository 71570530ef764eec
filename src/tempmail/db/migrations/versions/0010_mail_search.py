"""The search index of received mail (issue 19): `mail_search`, one row per indexed mail with
its address and its searchable text (sender name and address, envelope sender, subject, text;
lower-cased), filled by a background indexer off the receive path (`tempmail.inbound.search`).

Queries are case-insensitive substring matches within one address: the (address, mail_id)
index finds the address's texts, already extracted and lower-cased, and LIKE reads them. On
PostgreSQL a GIN index with pg_trgm's operator class lets LIKE find a rare text in a large
address too (the planner chooses). SQLite has no text index: an FTS5 trigram table was tried and
measured (it cost 2-3 ms a mail to keep at 60 000 mails and 4 KB of index a mail, and searching
one address through it was slower than reading that address's rows).

A mail's row goes with the mail however it is deleted, by a trigger on `raw_mails` as in 0009
(SQLite: a row trigger; PostgreSQL: a statement trigger over the transition table). The
pg_trgm extension stays on downgrade: other things of the database may use it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = (
    "CREATE TABLE IF NOT EXISTS mail_search"
    " (mail_id INTEGER PRIMARY KEY, address TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS idx_mail_search_address ON mail_search (address, mail_id)",
    "CREATE TRIGGER IF NOT EXISTS mail_search_removed AFTER DELETE ON raw_mails BEGIN"
    " DELETE FROM mail_search WHERE mail_id = OLD.id; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS mail_search_removed",
    "DROP TABLE IF EXISTS mail_search",
)
POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE IF NOT EXISTS mail_search"
    " (mail_id BIGINT PRIMARY KEY, address TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS idx_mail_search_address ON mail_search (address, mail_id)",
    "CREATE INDEX IF NOT EXISTS idx_mail_search_body ON mail_search USING gin (body gin_trgm_ops)",
    "CREATE OR REPLACE FUNCTION tempmail_mail_search_removed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN DELETE FROM mail_search WHERE mail_id IN (SELECT id FROM removed); RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER mail_search_removed AFTER DELETE ON raw_mails"
    " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
    " EXECUTE FUNCTION tempmail_mail_search_removed()",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS mail_search_removed ON raw_mails",
    "DROP FUNCTION IF EXISTS tempmail_mail_search_removed()",
    "DROP TABLE IF EXISTS mail_search",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_UPGRADE if postgresql else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DOWNGRADE if postgresql else SQLITE_DOWNGRADE:
        op.execute(statement)
