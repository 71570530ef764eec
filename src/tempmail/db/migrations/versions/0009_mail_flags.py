"""The IMAP flags of received mail (issue 18): `mail_flags`, one row per mail a client flagged.

`\\Seen`, `\\Answered`, `\\Flagged`, `\\Deleted` and `\\Draft` as booleans, so that the web UI
can later count unread mail with plain SQL. A mail's row must go with the mail, however it is
deleted (the API, EXPUNGE, the clean-up's batches, an address deleted with its mail): a trigger
on `raw_mails` does it on both back ends, so no delete path can forget it. SQLite: a row
trigger (one indexed delete per mail, inside the deleting transaction). PostgreSQL: a statement
trigger over the transition table, one delete per statement, as 0006 and 0007 do. No foreign
key: SQLite leaves them unchecked unless every connection asks, and a trigger is the same on
both.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = (
    "CREATE TRIGGER IF NOT EXISTS mail_flags_removed AFTER DELETE ON raw_mails BEGIN"
    " DELETE FROM mail_flags WHERE mail_id = OLD.id; END",
)
SQLITE_DOWNGRADE = ("DROP TRIGGER IF EXISTS mail_flags_removed",)
POSTGRESQL_UPGRADE = (
    "CREATE OR REPLACE FUNCTION tempmail_mail_flags_removed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN DELETE FROM mail_flags WHERE mail_id IN (SELECT id FROM removed); RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER mail_flags_removed AFTER DELETE ON raw_mails"
    " REFERENCING OLD TABLE AS removed FOR EACH STATEMENT"
    " EXECUTE FUNCTION tempmail_mail_flags_removed()",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS mail_flags_removed ON raw_mails",
    "DROP FUNCTION IF EXISTS tempmail_mail_flags_removed()",
)


def upgrade() -> None:
    op.create_table(
        "mail_flags",
        sa.Column("mail_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("mail_id"),
        if_not_exists=True,
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_UPGRADE if postgresql else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DOWNGRADE if postgresql else SQLITE_DOWNGRADE:
        op.execute(statement)
    op.drop_table("mail_flags")
