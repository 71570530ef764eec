"""Initial schema: the tables of API.md §3.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "address",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("password", sa.Text(), nullable=True),
        sa.Column("source_meta", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.create_index("idx_address_created_at", ["created_at"], unique=False)
        batch_op.create_index("idx_address_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "address_sender",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("address", sa.String(length=512), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )
    op.create_table(
        "auto_reply_mails",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_prefix", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=512), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address"),
    )
    op.create_table(
        "raw_mails",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("raw_blob", sa.LargeBinary(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("raw_mails", schema=None) as batch_op:
        batch_op.create_index("idx_raw_mails_address_id", ["address", "id"], unique=False)
        batch_op.create_index("idx_raw_mails_created_at", ["created_at"], unique=False)
        batch_op.create_index("idx_raw_mails_message_id", ["message_id"], unique=False)

    op.create_table(
        "sendbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("address", sa.String(length=512), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sendbox", schema=None) as batch_op:
        batch_op.create_index("idx_sendbox_address_id", ["address", "id"], unique=False)
        batch_op.create_index("idx_sendbox_created_at", ["created_at"], unique=False)

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "user_passkeys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("passkey_name", sa.Text(), nullable=False),
        sa.Column("passkey_id", sa.String(length=1024), nullable=False),
        sa.Column("passkey", sa.Text(), nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "passkey_id", name="uq_user_passkeys_user_passkey"),
    )
    with op.batch_alter_table("user_passkeys", schema=None) as batch_op:
        batch_op.create_index("idx_user_passkeys_passkey_id", ["passkey_id"], unique=False)

    op.create_table(
        "user_roles",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("role_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_email", sa.String(length=512), nullable=False),
        sa.Column("password", sa.Text(), nullable=False),
        sa.Column("user_info", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_email"),
    )
    op.create_table(
        "users_address",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("address_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address_id"),
    )
    with op.batch_alter_table("users_address", schema=None) as batch_op:
        batch_op.create_index("idx_users_address_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users_address", schema=None) as batch_op:
        batch_op.drop_index("idx_users_address_user_id")

    op.drop_table("users_address")
    op.drop_table("users")
    op.drop_table("user_roles")
    with op.batch_alter_table("user_passkeys", schema=None) as batch_op:
        batch_op.drop_index("idx_user_passkeys_passkey_id")

    op.drop_table("user_passkeys")
    op.drop_table("settings")
    with op.batch_alter_table("sendbox", schema=None) as batch_op:
        batch_op.drop_index("idx_sendbox_created_at")
        batch_op.drop_index("idx_sendbox_address_id")

    op.drop_table("sendbox")
    with op.batch_alter_table("raw_mails", schema=None) as batch_op:
        batch_op.drop_index("idx_raw_mails_message_id")
        batch_op.drop_index("idx_raw_mails_created_at")
        batch_op.drop_index("idx_raw_mails_address_id")

    op.drop_table("raw_mails")
    op.drop_table("auto_reply_mails")
    op.drop_table("address_sender")
    with op.batch_alter_table("address", schema=None) as batch_op:
        batch_op.drop_index("idx_address_updated_at")
        batch_op.drop_index("idx_address_created_at")

    op.drop_table("address")
