"""The two mailboxes of an address, as pymap's backend interfaces want them.

`INBOX` is the address's received mail: UIDs are mail ids (increasing, never reused), the
UIDVALIDITY is derived from the address's id (stable for as long as the address lives; a new
address of the same name gets another), flags are stored (`ClientMail`), EXPUNGE deletes as
the API does. `Sent` is the sent box, read-only (flags \\Seen, nothing to store or expunge):
its items are rebuilt messages, see `tempmail.inbound.client_mail`.

State is not kept here: every command lists the mailbox afresh from the database (a list of
ids, dates and flags) and pymap's `SelectedMailbox.set_messages` works out what changed, so
what another client, worker or node did shows at the next command. While a client IDLEs, the
wait ends on a realtime event of the address (`services.live`) or, at the latest, after
IDLE_CHECK_SECONDS for what no event announces (flags set elsewhere, sent items).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from pymap.backend.mailbox import MailboxDataInterface, MailboxSetInterface
from pymap.concurrent import Event
from pymap.exceptions import NotAllowedError
from pymap.flags import FlagOp
from pymap.interfaces.message import CachedMessage
from pymap.listtree import ListTree
from pymap.mailbox import MailboxSnapshot
from pymap.message import BaseLoadedMessage, BaseMessage
from pymap.mime import MessageContent
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials import FetchRequirement, ObjectId
from pymap.parsing.specials.flag import Flag, Seen
from pymap.selected import SelectedMailbox, SelectedSet

from tempmail.events.live import Listener, MailEvent
from tempmail.inbound.client_mail import DeleteNotAllowed, received_at, sent_message, to_imap, to_stored
from tempmail.security.tokens import AddressClaim
from tempmail.services import Services

INBOX = "INBOX"
SENT = "Sent"
IDLE_CHECK_SECONDS = 10.0
UID_VALIDITY_MAX = 0xFFFFFFFF

Loader = Callable[[], Awaitable[bytes | None]]


class Message(BaseMessage):
    """A message's UID, date and flags; its bytes are read only when a command needs them."""

    __slots__ = ("_load",)

    def __init__(
        self,
        uid: int,
        internal_date: datetime,
        flags: Iterable[Flag],
        load: Loader,
        *,
        expunged: bool = False,
    ) -> None:
        super().__init__(uid, internal_date, flags, expunged=expunged)
        self._load = load

    def with_flags(self, flags: Iterable[Flag]) -> Message:
        return Message(self.uid, self.internal_date, flags, self._load)

    async def load_content(self, requirement: FetchRequirement) -> BaseLoadedMessage:
        content = None
        if not requirement.has_none(FetchRequirement.CONTENT):
            raw = await self._load()
            # A mail deleted since the client listed it reads as empty, not as an error.
            content = MessageContent.parse(raw if raw is not None else b"")
        return BaseLoadedMessage(self, requirement, content)


def uid_validity(address_id: int) -> int:
    """A non-zero 32-bit number fixed by the address's id."""
    return (address_id - 1) % UID_VALIDITY_MAX + 1


def _flags(names: Iterable[str]) -> frozenset[Flag]:
    return frozenset(Flag(name) for name in names)


class _Box(MailboxDataInterface[Message]):
    """What both mailboxes share: snapshots, updates, IDLE, and refusing to be written."""

    name = ""
    readonly = False

    def __init__(self, claim: AddressClaim, services: Services, live: LiveListener) -> None:
        self.claim = claim
        self.services = services
        self.live = live
        self._selected_set = SelectedSet()
        self._mailbox_id = ObjectId(f"{self.name.lower()}-{claim.address_id}".encode())

    @property
    def mailbox_id(self) -> ObjectId:
        return self._mailbox_id

    @property
    def uid_validity(self) -> int:
        return uid_validity(self.claim.address_id)

    @property
    def permanent_flags(self) -> frozenset[Flag]:
        return _flags(("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"))

    @property
    def session_flags(self) -> frozenset[Flag]:
        return frozenset()

    @property
    def selected_set(self) -> SelectedSet:
        return self._selected_set

    async def messages(self) -> list[Message]:
        raise NotImplementedError

    async def next_uid(self, messages: list[Message]) -> int:
        return (messages[-1].uid + 1) if messages else 1

    async def update_selected(
        self, selected: SelectedMailbox, *, wait_on: Event | None = None
    ) -> SelectedMailbox:
        if wait_on is not None:
            await self.live.wait(wait_on, self.name == INBOX)
        selected.set_messages(await self.messages())
        return selected

    async def snapshot(self) -> MailboxSnapshot:
        messages = await self.messages()
        unseen = [seq for seq, msg in enumerate(messages, 1) if Seen not in msg.permanent_flags]
        return MailboxSnapshot(
            self.mailbox_id,
            self.readonly,
            self.uid_validity,
            self.permanent_flags,
            self.session_flags,
            len(messages),
            0,
            len(unseen),
            unseen[0] if unseen else None,
            await self.next_uid(messages),
        )

    async def get(self, uid: int, cached_msg: CachedMessage) -> Message:
        if not isinstance(cached_msg, Message):
            raise TypeError(cached_msg)
        return cached_msg

    async def append(self, append_msg: AppendMessage, *, recent: bool = False) -> Message:
        raise NotAllowedError("Mail arrives by SMTP only: APPEND is not supported.")

    async def copy(self, uid: int, destination: _Box, *, recent: bool = False) -> int | None:
        raise NotAllowedError("COPY is not supported.")

    async def move(self, uid: int, destination: _Box, *, recent: bool = False) -> int | None:
        raise NotAllowedError("MOVE is not supported.")

    async def update(
        self, uid: int, cached_msg: CachedMessage, flag_set: frozenset[Flag], mode: FlagOp
    ) -> Message:
        raise NotAllowedError("This mailbox is read-only.")

    async def delete(self, uids: Iterable[int]) -> None:
        raise NotAllowedError("This mailbox is read-only.")

    async def claim_recent(self, selected: SelectedMailbox) -> None:
        """No \\Recent: which session saw a mail first is not tracked."""

    async def cleanup(self) -> None:
        pass


class Inbox(_Box):
    name = INBOX

    def _loader(self, mail_id: int) -> Loader:
        return lambda: self.services.client_mail.raw(self.claim.address, mail_id)

    async def messages(self) -> list[Message]:
        return [
            Message(row.id, received_at(row.created_at), _flags(to_imap(row.flags)), self._loader(row.id))
            for row in await self.services.client_mail.listing(self.claim.address)
        ]

    async def next_uid(self, messages: list[Message]) -> int:
        """Above every mail id of all addresses: the next mail anyone gets has a higher one."""
        return max(await self.services.client_mail.next_id(), await super().next_uid(messages))

    async def update(
        self, uid: int, cached_msg: CachedMessage, flag_set: frozenset[Flag], mode: FlagOp
    ) -> Message:
        """Apply the change to the flags as stored now (another client may have set some)."""
        message = await self.get(uid, cached_msg)
        stored = (await self.services.client_mail.flags([uid])).get(uid, frozenset())
        flags = mode.apply(_flags(to_imap(stored)), flag_set & self.permanent_flags)
        await self.services.client_mail.set_flags(
            self.claim.address, [(uid, to_stored(str(f) for f in flags))]
        )
        return message.with_flags(flags)

    async def delete(self, uids: Iterable[int]) -> None:
        try:
            await self.services.client_mail.delete(self.claim.address, list(uids))
        except DeleteNotAllowed:
            raise NotAllowedError("Deleting mail is disabled here (ENABLE_USER_DELETE_EMAIL).") from None


class Sent(_Box):
    name = SENT
    readonly = True

    async def messages(self) -> list[Message]:
        address = self.claim.address
        rows = await self.services.client_mail.sent(address)

        def loader(index: int) -> Loader:
            async def load() -> bytes:
                return sent_message(address, rows[index])

            return load

        return [
            Message(row.id, received_at(row.created_at), (Seen,), loader(index))
            for index, row in enumerate(rows)
        ]


class LiveListener:
    """A session's realtime listener for its address, made at its first IDLE and ended with
    the session (or when the server's stop ends it, then made again if needed)."""

    def __init__(self, services: Services, address: str) -> None:
        self.services = services
        self.address = address
        self.listener: Listener | None = None

    async def wait(self, done: Event, live: bool) -> None:
        """Until the client ends its IDLE, a mail of the address is stored or deleted (`live`),
        or IDLE_CHECK_SECONDS pass."""
        ending = asyncio.ensure_future(done.wait())
        news: asyncio.Future[MailEvent | None] | None = None
        if live:
            if self.listener is None:
                self.listener = self.services.live.listen([self.address])
            news = asyncio.ensure_future(self.listener.next(IDLE_CHECK_SECONDS))
        waits: set[asyncio.Future[Any]] = {ending} if news is None else {ending, news}
        try:
            await asyncio.wait(waits, timeout=IDLE_CHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        ended = news is not None and news.done() and not news.cancelled() and news.exception() is None
        if ended and news is not None and news.result() is None:
            # The listener was ended (the server stops, or it fell behind): a new one next time.
            self.end()

    def end(self) -> None:
        if self.listener is not None:
            self.services.live.end(self.listener)
            self.listener = None


class MailboxSet(MailboxSetInterface[_Box]):
    """INBOX and Sent, nothing else: no mailbox can be created, deleted or renamed."""

    def __init__(self, claim: AddressClaim, services: Services, live: LiveListener) -> None:
        self.inbox = Inbox(claim, services, live)
        self.sent = Sent(claim, services, live)

    @property
    def delimiter(self) -> str:
        return "/"

    async def set_subscribed(self, name: str, subscribed: bool) -> None:
        """Both mailboxes are always subscribed."""

    async def list_subscribed(self) -> ListTree:
        return await self.list_mailboxes()

    async def list_mailboxes(self) -> ListTree:
        return ListTree(self.delimiter).update(INBOX, SENT)

    async def get_mailbox(self, name: str) -> _Box:
        if name.upper() == INBOX:
            return self.inbox
        if name == SENT:
            return self.sent
        raise KeyError(name)

    async def add_mailbox(self, name: str) -> ObjectId:
        raise NotAllowedError("Mailboxes cannot be created here.")

    async def delete_mailbox(self, name: str) -> None:
        raise NotAllowedError("Mailboxes cannot be deleted here.")

    async def rename_mailbox(self, before: str, after: str) -> None:
        raise NotAllowedError("Mailboxes cannot be renamed here.")
