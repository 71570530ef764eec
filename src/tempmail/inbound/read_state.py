"""Read and unread mail for the web UI and its API (issue 19): the IMAP `\\Seen` flag, so a mail
opened in the browser is read in a mail client too, and one a client read is no longer bold in
the browser (`tempmail.db.mail_seen`)."""

from __future__ import annotations

from collections.abc import Sequence

from tempmail.db.mail_seen import MailSeenStore


class ReadState:
    def __init__(self, store: MailSeenStore) -> None:
        self.store = store

    async def unread(self, owner: str) -> int:
        """How many of the address's mails were never opened nor marked read."""
        return await self.store.unread(owner)

    async def seen(self, mail_ids: Sequence[int]) -> set[int]:
        """Which of these mails are read."""
        return await self.store.seen(mail_ids)

    async def mark(self, owner: str, mail_ids: Sequence[int], seen: bool = True) -> None:
        """Mark the address's own mails among these read (or unread); others' are left alone."""
        await self.store.mark(owner, mail_ids, seen)
