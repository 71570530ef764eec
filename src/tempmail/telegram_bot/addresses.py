"""A Telegram user's addresses: create, bind, unbind, delete, read — for the chat commands and
the mini app alike.

A user holds at most TG_MAX_ADDRESS addresses. An address is created under the public rules
(block list, check regex, lengths, domains) but not the public switches: the admin turned the
bot on, as in the reference, whose bot creates addresses whatever ENABLE_USER_CREATE_EMAIL says.
What a user holds is checked against the addresses table whenever it is used: a binding whose
address was deleted (or deleted and created again by someone else) gives nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from tempmail.accounts.addresses import AddressService, NewAddress
from tempmail.config import Settings
from tempmail.db.mails import MailRow
from tempmail.errors import ApiError
from tempmail.inbound.mailbox import Mailbox
from tempmail.security.tokens import Tokens
from tempmail.telegram_bot.store import Binding, BotStore

TOO_MANY = "You already hold {max} addresses, the most allowed. Unbind or delete one first."
INVALID_CREDENTIAL = "That credential is not valid, or its address no longer exists."
NOT_HELD = "You do not hold {address}."
SOURCE_META = "telegram"


@dataclass(frozen=True, slots=True)
class MailAt:
    """One mail of a held address, with where it stands in the address's mail (newest first)."""

    binding: Binding
    row: MailRow | None
    offset: int
    count: int


class BotAddresses:
    def __init__(
        self, settings: Settings, store: BotStore, addresses: AddressService, tokens: Tokens, mailbox: Mailbox
    ) -> None:
        self.settings = settings
        self.store = store
        self.addresses = addresses
        self.tokens = tokens
        self.mailbox = mailbox

    async def held(self, user_id: str) -> list[Binding]:
        """The user's addresses that still exist."""
        return [item for item in await self.store.bindings(user_id) if await self.is_live(item)]

    def credential(self, binding: Binding) -> str:
        """The address's JWT, as `/api/new_address` hands it out."""
        return self.tokens.address_jwt(binding.address, binding.address_id)

    async def create(self, user_id: str, wanted: str | None) -> NewAddress:
        """`/new [name@domain]`: a random name when none is given, the default domain when none."""
        await self._check_room(user_id)
        name, _, domain = (wanted or "").strip().partition("@")
        created = await self.addresses.create_checked(name or None, domain or None, SOURCE_META)
        await self.store.bind(user_id, Binding(created.address, created.address_id))
        return created

    async def bind(self, user_id: str, jwt: str) -> Binding:
        """`/bind <credential>`: an existing address, by its JWT."""
        claim = self.tokens.read_address(jwt.strip())
        if claim is None:
            raise ApiError(400, INVALID_CREDENTIAL)
        binding = Binding(claim.address, claim.address_id)
        if not await self.is_live(binding):
            raise ApiError(400, INVALID_CREDENTIAL)
        if binding not in await self.store.bindings(user_id):
            await self._check_room(user_id)
        await self.store.bind(user_id, binding)
        return binding

    async def unbind(self, user_id: str, address: str) -> None:
        address = address.strip().lower()
        if not await self.store.unbind(user_id, address):
            raise ApiError(400, NOT_HELD, address=address)

    async def delete(self, user_id: str, address: str) -> None:
        """`/delete <address>`: the address with its mail, for a user who holds it."""
        binding = await self.holding(user_id, address)
        await self.addresses.delete(binding.address_id)
        await self.store.unbind(user_id, binding.address)

    async def clean_invalid(self, user_id: str) -> int:
        """`/cleaninvalidaddress`: forget the addresses that no longer exist; how many went."""
        gone = [item for item in await self.store.bindings(user_id) if not await self.is_live(item)]
        for item in gone:
            await self.store.unbind(user_id, item.address)
        return len(gone)

    async def holding(self, user_id: str, address: str) -> Binding:
        """The user's binding of `address` (which still exists), else the refusal."""
        wanted = address.strip().lower()
        for item in await self.held(user_id):
            if item.address == wanted:
                return item
        raise ApiError(400, NOT_HELD, address=wanted)

    async def holding_id(self, user_id: str, address_id: int) -> Binding | None:
        for item in await self.held(user_id):
            if item.address_id == address_id:
                return item
        return None

    async def mail_at(self, binding: Binding, offset: int) -> MailAt:
        """The mail at `offset` (0 = newest) of a held address, and how many it has."""
        first = await self.mailbox.page(1, 0, owner=binding.address)
        offset = max(0, min(offset, first.count - 1))
        page = first if offset == 0 else await self.mailbox.page(1, offset, owner=binding.address)
        return MailAt(binding, page.results[0] if page.results else None, offset, first.count)

    async def is_live(self, binding: Binding) -> bool:
        """The bound address still exists, under the same id (not a new one of the same name)."""
        return await self.addresses.is_live(binding.address_id, binding.address)

    async def _check_room(self, user_id: str) -> None:
        cap = self.settings.TG_MAX_ADDRESS
        if len(await self.held(user_id)) >= cap:
            raise ApiError(400, TOO_MANY, max=cap)
