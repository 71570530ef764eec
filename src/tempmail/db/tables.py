"""The tables of API.md §3, defined once for SQLite and PostgreSQL.

Timestamps are real timestamps in the database (so PostgreSQL users get a `timestamp` column
and both engines can compare them) but come back to Python as the `YYYY-MM-DD HH:MM:SS` UTC
strings the API returns, so no handler ever formats a date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

# SQLite keeps DATETIME as text; store it in CURRENT_TIMESTAMP's own form so that SQL written by
# hand against the file (custom cleanup statements, `datetime('now', '-1 day')`) compares right.
_SQLITE_DATETIME = sqlite.DATETIME(  # type: ignore[no-untyped-call]
    storage_format="%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d",
    regexp=r"(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)",
)


class Timestamp(TypeDecorator[str]):
    """A UTC timestamp column that reads and writes `YYYY-MM-DD HH:MM:SS` strings."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLITE_DATETIME)
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.strptime(str(value), TIMESTAMP_FORMAT)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.strftime(TIMESTAMP_FORMAT)
        return str(value)[:19]


def utcnow() -> datetime:
    """Naive UTC now, second precision: what every created_at/updated_at holds."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _created_at() -> Column[str]:
    return Column("created_at", Timestamp, nullable=False, default=utcnow)


def _updated_at() -> Column[str]:
    return Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow)


# IDs are 64-bit on PostgreSQL (BIGSERIAL) but must stay INTEGER PRIMARY KEY on SQLite to be the
# rowid alias that autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

raw_mails = Table(
    "raw_mails",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", Text),
    Column("source", Text),
    Column("address", Text),
    Column("raw", Text),
    Column("raw_blob", LargeBinary),
    Column("metadata", Text),
    _created_at(),
    # One address's newest mails: an index walk of (address, id desc), whatever the table size.
    Index("idx_raw_mails_address_id", "address", "id"),
    Index("idx_raw_mails_created_at", "created_at"),
    Index("idx_raw_mails_message_id", "message_id"),
    # An id is never handed out twice (migration 0007): it is the push API's event id.
    sqlite_autoincrement=True,
)

# How many mails there are (migration 0005 on PostgreSQL, 0006 on SQLite), kept exact by
# triggers, so the admin's list of every mail needs no scan to count them.
raw_mails_count = Table(
    "raw_mails_count",
    metadata,
    Column("only_row", Boolean, primary_key=True),
    Column("mails", BigInteger, nullable=False),
)

# Each address's number of mails (migration 0006), kept exact by triggers on both back ends, so
# the count on an inbox's first page is a lookup however many mails it holds. No row: none.
mail_counts = Table(
    "mail_counts",
    metadata,
    Column("address", Text, primary_key=True),
    Column("mails", BigInteger, nullable=False),
)

address = Table(
    "address",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(512), nullable=False, unique=True),
    Column("password", Text),
    Column("source_meta", Text),
    _created_at(),
    _updated_at(),
    Index("idx_address_created_at", "created_at"),
    Index("idx_address_updated_at", "updated_at"),
    # Ids are part of credentials: SQLite must never hand a deleted row's id to a new row.
    sqlite_autoincrement=True,
)

auto_reply_mails = Table(
    "auto_reply_mails",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source_prefix", Text),
    Column("name", Text),
    Column("address", String(512), nullable=False, unique=True),
    Column("subject", Text),
    Column("message", Text),
    Column("enabled", Integer, nullable=False, default=1),
    _created_at(),
)

address_sender = Table(
    "address_sender",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("address", String(512), nullable=False, unique=True),
    Column("balance", Integer, nullable=False, default=0),
    Column("enabled", Integer, nullable=False, default=1),
    _created_at(),
)

sendbox = Table(
    "sendbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("address", String(512), nullable=False),
    Column("raw", Text),
    _created_at(),
    Index("idx_sendbox_address_id", "address", "id"),
    Index("idx_sendbox_created_at", "created_at"),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text),
    _created_at(),
    _updated_at(),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_email", String(512), nullable=False, unique=True),
    Column("password", Text, nullable=False),
    Column("user_info", Text),
    _created_at(),
    _updated_at(),
    sqlite_autoincrement=True,
)

users_address = Table(
    "users_address",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("address_id", BigInteger, nullable=False, unique=True),
    _created_at(),
    Index("idx_users_address_user_id", "user_id"),
)

user_roles = Table(
    "user_roles",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False, unique=True),
    Column("role_text", Text, nullable=False),
    _created_at(),
    _updated_at(),
)

user_passkeys = Table(
    "user_passkeys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("passkey_name", Text, nullable=False),
    Column("passkey_id", String(1024), nullable=False),
    Column("passkey", Text, nullable=False),
    Column("counter", BigInteger, nullable=False, default=0),
    _created_at(),
    _updated_at(),
    UniqueConstraint("user_id", "passkey_id", name="uq_user_passkeys_user_passkey"),
    Index("idx_user_passkeys_passkey_id", "passkey_id"),
)

# What follows a stored mail, one row per (mail, kind), written with the mail (migration 0008;
# see `tempmail.db.deliveries`).
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("mail_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("address", Text),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("locked_by", Text),
    Column("locked_until", Timestamp),
    Column("last_error", Text),
    _created_at(),
    Column("done_at", Timestamp),
    Index("idx_deliveries_due", "status", "next_attempt_at"),
    Index("idx_deliveries_status_id", "status", "id"),
    Index("idx_deliveries_mail_id", "mail_id"),
)

# Which node runs a scheduled job until when (seconds since the epoch), migration 0008.
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("holder", Text, nullable=False),
    Column("until", Float, nullable=False),
    Column("runs", BigInteger, nullable=False),
)

# The IMAP flags of a received mail (migration 0009), a row once a client set any: what a mail
# client marked read, flagged or deleted survives its reconnects and the server's restarts. A
# trigger on `raw_mails` deletes a mail's row with the mail, whatever path deletes it.
mail_flags = Table(
    "mail_flags",
    metadata,
    Column("mail_id", BigInteger, primary_key=True, autoincrement=False),
    Column("seen", Boolean, nullable=False, default=False),
    Column("answered", Boolean, nullable=False, default=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("draft", Boolean, nullable=False, default=False),
)

# The search index of received mail (migration 0010): a mail's address and its searchable text,
# lower-cased, written by the background indexer (`tempmail.inbound.search`). PostgreSQL's
# trigram index (GIN with pg_trgm) lives only in the migration; a trigger on `raw_mails` deletes
# a mail's row with the mail.
mail_search = Table(
    "mail_search",
    metadata,
    Column("mail_id", BigId, primary_key=True, autoincrement=False),
    Column("address", Text, nullable=False),
    Column("body", Text, nullable=False),
)
