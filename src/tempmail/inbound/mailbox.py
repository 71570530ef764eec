"""Received mail as its readers see it: an address's inbox, the admin's view of every mail, the
mail nobody claimed, one mail, deleting and clearing (API.md §4).

Rows come back as the store gives them; `tempmail.inbound.views` shapes them for the API.
"""

from __future__ import annotations

from typing import Any

from tempmail.config import Settings
from tempmail.db.addresses import AddressStore, touch_due
from tempmail.db.mails import MailRow, MailStore, NewMail, raw_bytes
from tempmail.db.paging import Page
from tempmail.errors import ADDRESS_CREDENTIAL, DELETE_DISABLED, ApiError
from tempmail.inbound.mail_stored import StoredMail
from tempmail.inbound.metadata import stored_result


class Mailbox:
    def __init__(self, settings: Settings, mails: MailStore, addresses: AddressStore) -> None:
        self.settings = settings
        self.mails = mails
        self.addresses = addresses

    def ensure_owner_deletes(self) -> None:
        """Owners (address or user) may delete mail only with ENABLE_USER_DELETE_EMAIL; the
        admin always may. Called after the credential check, so a wrong one is still a 401."""
        if not self.settings.ENABLE_USER_DELETE_EMAIL:
            raise ApiError(403, DELETE_DISABLED)

    async def inbox(self, address_id: int, address: str, limit: int, offset: int) -> Page[MailRow]:
        """A page of an address's mail (`/api/mails`, `/api/parsed_mails`) for its credential,
        refused as that credential is when the address is gone.

        Reading the first page counts as the address's activity, at most once a day (the
        inactive-address cleanup goes by it): the page says when the address was last active,
        so a read writes only on the day's first poll.
        """
        inbox = await self.mails.inbox(address_id, address, limit, offset)
        if inbox is None:
            raise ApiError(401, ADDRESS_CREDENTIAL)
        if offset == 0 and touch_due(inbox.updated_at):
            await self.addresses.touch_ids([address_id])
        return inbox.page

    async def page(self, limit: int, offset: int, owner: str | None = None) -> Page[Any]:
        """Every mail, or one address's, newest first, without counting as its activity."""
        return await self.mails.page(limit, offset, owner=owner)

    async def unknown(self, limit: int, offset: int) -> Page[Any]:
        """Mail received for addresses that were never created."""
        return await self.mails.page_unknown(limit, offset)

    async def get(self, mail_id: int, owner: str | None = None) -> Any | None:
        return await self.mails.get(mail_id, owner=owner)

    async def delete(self, mail_id: int, owner: str | None = None) -> None:
        """Deleting a mail that is not there (or not the owner's) is no error, as in the
        reference: the answer is the same either way."""
        await self.mails.delete(mail_id, owner=owner)

    async def clear(self, address: str) -> None:
        await self.mails.clear(address)

    async def seed(self, address: str, raw: bytes, source: str, message_id: str | None) -> None:
        """Store a mail as given, past every stage (fixtures of the end-to-end test mode)."""
        await self.mails.insert([NewMail(address=address, source=source, raw=raw, message_id=message_id)])

    async def random_mail(self, address: str | None) -> StoredMail | None:
        """A stored mail picked at random (of `address`), for webhook tests; None if none."""
        row = await self.mails.random(owner=address)
        if row is None:
            return None
        mail = StoredMail(int(row.id), str(row.address), str(row.source or ""), raw_bytes(row))
        mail.extracted = stored_result(row.metadata)
        return mail
