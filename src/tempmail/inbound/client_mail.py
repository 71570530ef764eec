"""An address's mail as a mail client sees it (the IMAP server, `tempmail.imap`): the list of
its mails with their flags, one mail's exact bytes, flags that persist, deleting as the API
deletes, and its sent items as messages.

Flags live in the database (`tempmail.db.mail_flags`), not in a session, so what a client marked
read is read after a reconnect, a restart, on any worker or node; `seen` gives the web UI the
same read/unread state.

The sent box keeps what was sent as the reference writes it: a JSON record (`from_name`,
`to_mail`, `subject`, `content`, `is_html`), not the MIME message that went out (whose
Message-ID and Date were never kept). A client is shown a message rebuilt from the record with
the standard library's `email` package, the same bytes on every fetch: the Date is the row's
`created_at` and the Message-ID is derived from the row's id. A row that is not such a record
(written by something else) is served as the message text it holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from tempmail.config import Settings
from tempmail.db.mail_flags import FLAG_COLUMNS, FlaggedMail, MailFlagStore, SentRow
from tempmail.db.mails import MailStore, raw_bytes
from tempmail.db.tables import TIMESTAMP_FORMAT

# The flags a client may store, by their IMAP names in lower case (the store keeps them by
# column; flag names are case-insensitive).
IMAP_FLAGS = {f"\\{name}": name for name in FLAG_COLUMNS}


class DeleteNotAllowed(Exception):
    """Owners may not delete mail here (ENABLE_USER_DELETE_EMAIL is off), as in the API."""


def to_stored(flags: Iterable[str]) -> frozenset[str]:
    """IMAP flag names (`\\Seen`) as the store's (`seen`); anything else is dropped."""
    return frozenset(IMAP_FLAGS[flag.lower()] for flag in flags if flag.lower() in IMAP_FLAGS)


def to_imap(stored: Iterable[str]) -> frozenset[str]:
    return frozenset(f"\\{name.capitalize()}" for name in stored)


def received_at(created_at: str) -> datetime:
    """A row's `created_at` (UTC, `YYYY-MM-DD HH:MM:SS`) as an aware datetime."""
    return datetime.strptime(created_at, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


class ClientMail:
    def __init__(self, settings: Settings, mails: MailStore, store: MailFlagStore) -> None:
        self.settings = settings
        self.mails = mails
        self.store = store

    async def listing(self, address: str) -> list[FlaggedMail]:
        """Every mail of the address, oldest first, with its stored flags (store names)."""
        return await self.store.listing(address)

    async def next_id(self) -> int:
        """An id above every mail's: IMAP's predicted next UID."""
        return await self.store.newest_id() + 1

    async def raw(self, address: str, mail_id: int) -> bytes | None:
        """The exact bytes received (decompressed), None when the mail is gone."""
        row = await self.mails.get(mail_id, owner=address)
        return None if row is None else raw_bytes(row)

    async def set_flags(self, address: str, changes: Sequence[tuple[int, frozenset[str]]]) -> None:
        """Store each mail's whole set of flags (store names), for the address's own mails."""
        await self.store.set_flags(address, changes)

    async def flags(self, mail_ids: Iterable[int]) -> dict[int, frozenset[str]]:
        """The stored flags (store names) of these mails; one never flagged is absent."""
        return await self.store.flags(mail_ids)

    async def seen(self, mail_ids: Iterable[int]) -> set[int]:
        """Which of these mails a client has marked read (`\\Seen`)."""
        return {mail_id for mail_id, flags in (await self.store.flags(mail_ids)).items() if "seen" in flags}

    async def delete(self, address: str, mail_ids: Iterable[int]) -> None:
        """Delete the address's mails as `DELETE /api/mails/:id` does: only when owners may
        (ENABLE_USER_DELETE_EMAIL), one mail at a time through the same store call."""
        if not self.settings.ENABLE_USER_DELETE_EMAIL:
            raise DeleteNotAllowed
        for mail_id in mail_ids:
            await self.mails.delete(mail_id, owner=address)

    async def sent(self, address: str) -> list[SentRow]:
        return await self.store.sent(address)


def sent_message(address: str, row: SentRow) -> bytes:
    """The MIME message of a sent item (see the module's docstring), CRLF line ends."""
    try:
        record = json.loads(row.raw or "")
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return (row.raw or "").encode("utf-8")
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((str(record.get("from_name") or ""), address))
    message["To"] = formataddr((str(record.get("to_name") or ""), str(record.get("to_mail") or "")))
    message["Subject"] = " ".join(str(record.get("subject") or "").split())
    message["Date"] = format_datetime(received_at(row.created_at))
    message["Message-ID"] = f"<sent-{row.id}@{address.rpartition('@')[2] or 'localhost'}>"
    content = str(record.get("content") or "")
    message.set_content(content, subtype="html" if record.get("is_html") else "plain")
    return message.as_bytes()
