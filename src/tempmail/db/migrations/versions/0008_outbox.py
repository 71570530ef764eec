"""Deliveries once, durably (issue 17, item 5): the outbox of what follows a stored mail, and
the leases that let one node at a time run a scheduled job.

- `deliveries`: a row per (mail, kind) — kind `forward`, `webhook` or `auto_reply` — written in
  the transaction that stores the mail, so a committed mail can never lose what it owes (see
  `tempmail.db.deliveries`). `status` is `pending` until it is `done`, or `failed` once its
  attempts are spent; `locked_by` / `locked_until` are the lease of the worker delivering it.
  Claims look for pending rows by when they are due, the admin's list pages by id.
- `job_leases`: a row per scheduled job, naming the node that runs it until `until` (seconds
  since the epoch, for sub-second intervals), and how many runs it has had.

Plain tables on both back ends: the same `create_table` serves SQLite and PostgreSQL. Like
the migrations before it, it can run again on a database set back to an older revision.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("mail_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("locked_by", sa.Text(), nullable=True),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        if_not_exists=True,
    )
    op.create_index("idx_deliveries_due", "deliveries", ["status", "next_attempt_at"], if_not_exists=True)
    op.create_index("idx_deliveries_status_id", "deliveries", ["status", "id"], if_not_exists=True)
    op.create_index("idx_deliveries_mail_id", "deliveries", ["mail_id"], if_not_exists=True)
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_index("idx_deliveries_mail_id", table_name="deliveries")
    op.drop_index("idx_deliveries_status_id", table_name="deliveries")
    op.drop_index("idx_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
