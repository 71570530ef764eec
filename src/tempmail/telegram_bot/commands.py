"""The chat commands (`/start`, `/new`, `/address`, `/bind`, `/unbind`, `/delete`, `/mails`,
`/cleaninvalidaddress`) and the paging buttons of `/mails`, as replies in Bot API HTML.

A refusal of the services (a name the rules refuse, an address the user does not hold) is the
reply itself, in the user's language. The paging buttons carry `m:<address id>:<offset>`
(callback data holds 64 bytes at most: an address would not always fit), checked again against
what the user holds when pressed.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tempmail.db.mails import raw_bytes
from tempmail.errors import ApiError
from tempmail.inbound.metadata import stored_result
from tempmail.telegram_bot.addresses import BotAddresses, MailAt
from tempmail.telegram_bot.messages import mail_facts, mail_message
from tempmail.telegram_bot.texts import COMMANDS, say

PAGE_PREFIX = "m:"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot answers: HTML text, and the buttons under it (label, callback data)."""

    text: str
    lang: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    # The mail shown, for a button that opens it in the mini app or the web UI.
    mail_id: int | None = None


def _plain(lang: str, text: str, **params: object) -> Reply:
    return Reply(html.escape(say(lang, text, **params)), lang)


class Commands:
    def __init__(self, addresses: BotAddresses) -> None:
        self.addresses = addresses
        self._handlers: dict[str, Callable[[str, str, str], Awaitable[Reply]]] = {
            "start": self._start,
            "help": self._start,
            "new": self._new,
            "address": self._address,
            "bind": self._bind,
            "unbind": self._unbind,
            "delete": self._delete,
            "mails": self._mails,
            "cleaninvalidaddress": self._clean,
        }

    async def run(self, user_id: str, lang: str, text: str) -> Reply | None:
        """The reply to a message; None for one that is no command (the bot keeps quiet)."""
        if not text.startswith("/"):
            return None
        word, _, argument = text[1:].partition(" ")
        # `/mails@SomeBot` in a group names the bot it is meant for.
        name = word.partition("@")[0].lower()
        handler = self._handlers.get(name)
        if handler is None:
            return _plain(lang, "Unknown command. Send /start for help.")
        try:
            return await handler(user_id, lang, argument.strip())
        except ApiError as exc:
            return Reply(html.escape(exc.text(lang)), lang)

    async def page(self, user_id: str, lang: str, data: str) -> Reply | None:
        """A press on a mail's older/newer button; None when it names nothing the user holds."""
        if not data.startswith(PAGE_PREFIX):
            return None
        address_id, _, offset = data[len(PAGE_PREFIX) :].partition(":")
        if not address_id.isdigit() or not offset.isdigit():
            return None
        binding = await self.addresses.holding_id(user_id, int(address_id))
        if binding is None:
            return None
        return await self._show(lang, await self.addresses.mail_at(binding, int(offset)))

    async def _start(self, user_id: str, lang: str, argument: str) -> Reply:
        lines = [say(lang, "Welcome to the temporary mail bot. Commands:")]
        lines += [f"/{name} — {say(lang, text)}" for name, text in COMMANDS]
        return Reply(html.escape("\n".join(lines)), lang)

    async def _new(self, user_id: str, lang: str, argument: str) -> Reply:
        created = await self.addresses.create(user_id, argument or None)
        text = say(
            lang,
            "Address created: {address}\nCredential (keep it to log in on the web): {jwt}",
            address="\0",
            jwt="\1",
        )
        shown = (
            html.escape(text)
            .replace("\0", html.escape(created.address))
            .replace("\1", f"<code>{created.jwt}</code>")
        )
        return Reply(shown, lang)

    async def _address(self, user_id: str, lang: str, argument: str) -> Reply:
        held = await self.addresses.held(user_id)
        if not held:
            return _plain(lang, "You hold no address yet. Create one with /new or bind one with /bind.")
        lines = [html.escape(say(lang, "Your addresses:"))]
        lines += [f"<code>{html.escape(item.address)}</code>" for item in held]
        return Reply("\n".join(lines), lang)

    async def _bind(self, user_id: str, lang: str, argument: str) -> Reply:
        if not argument:
            return _plain(lang, "Usage: /bind <credential>")
        binding = await self.addresses.bind(user_id, argument)
        return _plain(lang, "Bound: {address}", address=binding.address)

    async def _unbind(self, user_id: str, lang: str, argument: str) -> Reply:
        if not argument:
            return _plain(lang, "Usage: /unbind <address>")
        await self.addresses.unbind(user_id, argument)
        return _plain(lang, "Unbound: {address}", address=argument.strip().lower())

    async def _delete(self, user_id: str, lang: str, argument: str) -> Reply:
        if not argument:
            return _plain(lang, "Usage: /delete <address>")
        await self.addresses.delete(user_id, argument)
        return _plain(lang, "Deleted: {address}", address=argument.strip().lower())

    async def _mails(self, user_id: str, lang: str, argument: str) -> Reply:
        if argument:
            binding = await self.addresses.holding(user_id, argument)
        else:
            held = await self.addresses.held(user_id)
            if not held:
                return _plain(lang, "You hold no address yet. Create one with /new or bind one with /bind.")
            binding = held[0]
        return await self._show(lang, await self.addresses.mail_at(binding, 0))

    async def _clean(self, user_id: str, lang: str, argument: str) -> Reply:
        return _plain(
            lang,
            "Forgot {count} address(es) that no longer exist.",
            count=await self.addresses.clean_invalid(user_id),
        )

    async def _show(self, lang: str, at: MailAt) -> Reply:
        """One mail of an address with the buttons to the older and newer ones."""
        row = at.row
        if row is None:
            return _plain(lang, "No mail in {address}.", address=at.binding.address)
        facts = await mail_facts(raw_bytes(row), row.source or "", stored_result(row.metadata))
        title = say(
            lang,
            "Mail {position} of {count} in {address}",
            position=at.offset + 1,
            count=at.count,
            address=at.binding.address,
        )
        buttons = []
        if at.offset + 1 < at.count:
            buttons.append(("Older", f"{PAGE_PREFIX}{at.binding.address_id}:{at.offset + 1}"))
        if at.offset > 0:
            buttons.append(("Newer", f"{PAGE_PREFIX}{at.binding.address_id}:{at.offset - 1}"))
        return Reply(mail_message(lang, title, facts), lang, buttons, int(row.id))
