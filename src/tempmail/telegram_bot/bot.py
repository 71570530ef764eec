"""The bot as a service: its Bot API client, the updates it is sent, the admin's operations, the
mini app, and the notifications of new mail.

Without TELEGRAM_BOT_TOKEN every route answers the reference's `400 TELEGRAM_BOT_TOKEN is
required` (`require`). With one, updates come either to `/telegram/webhook` (TELEGRAM_MODE
`webhook`, registered by `POST /admin/telegram/init` with a secret token derived from the bot
token, which Telegram echoes in every call and `check_secret` compares) or from getUpdates
(`polling`: `poll_once`, a job that one node runs at a time, going on from the offset kept in the
database). Either way they end in `handle`.

New mail to an address that a Telegram user holds is an outbox kind (`telegram`, written only
while the bot is configured): sent once, retried with the outbox's back-off when the Bot API
fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    WebAppInfo,
)
from telegram.constants import ParseMode
from telegram.error import Conflict, TelegramError
from telegram.request import HTTPXRequest

from tempmail.config import Settings
from tempmail.errors import CHINESE, ApiError
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.outbox import DeliveryFailed
from tempmail.telegram_bot.addresses import BotAddresses
from tempmail.telegram_bot.commands import Commands, Reply
from tempmail.telegram_bot.messages import mail_facts, mail_message
from tempmail.telegram_bot.store import BotSettings, BotStore
from tempmail.telegram_bot.texts import COMMANDS, ZH, language_of, say
from tempmail.telegram_bot.webapp import user_of

log = logging.getLogger(__name__)

TOKEN_REQUIRED = "TELEGRAM_BOT_TOKEN is required"
BAD_SECRET = "Invalid Telegram secret token"
API_FAILED = "Telegram Bot API error: {detail}"
NOT_ALLOWED = "You are not allowed to use this bot (your id: {user_id})."
WEBHOOK_SET = "webhook set successfully"
POLLING_SET = "webhook removed: the bot polls for updates"
UPDATES = ("message", "callback_query")
POLL_RETRY_SECONDS = 5.0


class TelegramBot:
    def __init__(self, settings: Settings, store: BotStore, addresses: BotAddresses) -> None:
        self.settings = settings
        self.store = store
        self.addresses = addresses
        self.token = settings.TELEGRAM_BOT_TOKEN
        self._api: Bot | None = None
        self.commands = Commands(addresses)
        if self.token:
            base = settings.TELEGRAM_API_URL.rstrip("/")
            # A second connection for getUpdates, whose long poll holds one open.
            self._api = Bot(
                self.token,
                base_url=f"{base}/bot",
                base_file_url=f"{base}/file/bot",
                request=HTTPXRequest(connection_pool_size=8),
                get_updates_request=HTTPXRequest(connection_pool_size=1),
            )

    @property
    def configured(self) -> bool:
        return self._api is not None

    def require(self) -> Bot:
        """The Bot API client; the reference's 400 when no token is configured."""
        if self._api is None:
            raise ApiError(400, TOKEN_REQUIRED)
        return self._api

    async def close(self) -> None:
        if self._api is not None:
            with contextlib.suppress(Exception):
                await self._api.shutdown()

    # --- webhook ---------------------------------------------------------------------------

    def webhook_secret(self) -> str:
        """What Telegram echoes in `X-Telegram-Bot-Api-Secret-Token`: derived from the bot token
        (the same on every node, never stored), in the alphabet the Bot API allows."""
        return hmac.new(
            self.require().token.encode(), b"tempmail telegram webhook", hashlib.sha256
        ).hexdigest()

    def check_secret(self, given: str | None) -> None:
        expected = self.webhook_secret()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, BAD_SECRET)

    # --- updates ---------------------------------------------------------------------------

    async def handle(self, data: dict[str, Any]) -> None:
        """One update (a command, or a press on a mail's paging buttons). Failures are logged,
        never answered: Telegram would send a refused update again and again."""
        api = self.require()
        try:
            update = Update.de_json(data, api)
        except Exception:
            log.warning("an update that is not one: %.200r", data)
            return
        try:
            if update.callback_query is not None:
                await self._callback(api, update.callback_query)
            elif update.message is not None and update.message.text:
                await self._message(api, update.message)
        except TelegramError:
            log.exception("answering Telegram update %s failed", update.update_id)

    async def _allowed(self, user_id: str) -> bool:
        settings = await self.store.settings()
        return not settings.enableAllowList or user_id in settings.allowList

    async def _message(self, api: Bot, message: Message) -> None:
        user = message.from_user
        if user is None:
            return
        lang = language_of(user.language_code)
        user_id = str(user.id)
        if not await self._allowed(user_id):
            await api.send_message(message.chat_id, ApiError(403, NOT_ALLOWED, user_id=user_id).text(lang))
            return
        await self.store.remember_language(user_id, lang)
        reply = await self.commands.run(user_id, lang, message.text or "")
        if reply is not None:
            await self._send(api, message.chat_id, reply)

    async def _callback(self, api: Bot, query: CallbackQuery) -> None:
        lang = language_of(query.from_user.language_code)
        user_id = str(query.from_user.id)
        if not await self._allowed(user_id):
            await query.answer(ApiError(403, NOT_ALLOWED, user_id=user_id).text(lang), show_alert=True)
            return
        reply = await self.commands.page(user_id, lang, query.data or "")
        if reply is None:
            await query.answer(say(lang, "That mail list is gone; send /mails again."), show_alert=True)
            return
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                reply.text, parse_mode=ParseMode.HTML, reply_markup=await self._keyboard(reply, lang)
            )

    async def _send(self, api: Bot, chat_id: int, reply: Reply) -> None:
        await api.send_message(
            chat_id,
            reply.text,
            parse_mode=ParseMode.HTML,
            reply_markup=await self._keyboard(reply, reply.lang),
        )

    async def _keyboard(self, reply: Reply, lang: str) -> InlineKeyboardMarkup | None:
        """Older/newer buttons of a mail, and the mini app's (or the web UI's) to open it."""
        row = [InlineKeyboardButton(say(lang, label), callback_data=data) for label, data in reply.buttons]
        opener = await self._opener(lang, reply.mail_id)
        if opener is not None:
            row.append(opener)
        return InlineKeyboardMarkup([row]) if row else None

    async def _opener(self, lang: str, mail_id: int | None) -> InlineKeyboardButton | None:
        if mail_id is None:
            return None
        mini_app = (await self.store.settings()).miniAppUrl
        if mini_app:
            joiner = "&" if "?" in mini_app else "?"
            return InlineKeyboardButton(
                say(lang, "Open"), web_app=WebAppInfo(f"{mini_app}{joiner}mail_id={mail_id}")
            )
        if self.settings.FRONTEND_URL:
            return InlineKeyboardButton(
                say(lang, "Open"), url=f"{self.settings.FRONTEND_URL}?mail_id={mail_id}"
            )
        return None

    # --- polling ---------------------------------------------------------------------------

    async def poll(self) -> None:
        """Poll until cancelled (the polling job); a failed poll is logged and tried again."""
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("polling Telegram for updates failed; trying again")
                await asyncio.sleep(POLL_RETRY_SECONDS)

    async def poll_once(self) -> None:
        """One getUpdates (a long poll of TELEGRAM_POLL_TIMEOUT seconds), each update handled and
        the offset saved after it, so the next poll, on whichever node, goes on from there. A
        webhook left registered makes getUpdates refuse: polling mode removes it."""
        api = self.require()
        offset = await self.store.poll_offset()
        try:
            updates = await api.get_updates(
                offset=offset, timeout=self.settings.TELEGRAM_POLL_TIMEOUT, allowed_updates=UPDATES
            )
        except Conflict:
            log.warning("a webhook is registered; polling mode removes it")
            await api.delete_webhook()
            return
        for update in updates:
            try:
                await self.handle(update.to_dict())
            except Exception:
                # Gone past all the same: an update that fails every time must not stop the bot.
                log.exception("handling Telegram update %s failed", update.update_id)
            await self.store.save_poll_offset(update.update_id + 1)

    # --- the admin -------------------------------------------------------------------------

    async def init(self, origin: str) -> dict[str, str]:
        """`POST /admin/telegram/init`: the webhook (`<origin>/telegram/webhook`, or
        TELEGRAM_WEBHOOK_URL) with its secret, or none in polling mode; and the command list."""
        api = self.require()
        try:
            if self.settings.TELEGRAM_MODE == "polling":
                await api.delete_webhook()
            else:
                url = self.settings.TELEGRAM_WEBHOOK_URL or f"{origin.rstrip('/')}/telegram/webhook"
                await api.set_webhook(url, secret_token=self.webhook_secret(), allowed_updates=UPDATES)
            await api.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
            await api.set_my_commands(
                [BotCommand(name, ZH[text]) for name, text in COMMANDS], language_code=CHINESE
            )
        except TelegramError as exc:
            raise ApiError(502, API_FAILED, detail=str(exc)) from None
        return {"message": POLLING_SET if self.settings.TELEGRAM_MODE == "polling" else WEBHOOK_SET}

    async def status(self) -> dict[str, Any]:
        """`GET /admin/telegram/status`: the Bot API's webhook info and command list."""
        api = self.require()
        try:
            info = await api.get_webhook_info()
            commands = await api.get_my_commands()
        except TelegramError as exc:
            raise ApiError(502, API_FAILED, detail=str(exc)) from None
        return {"info": info.to_dict(), "commands": [command.to_dict() for command in commands]}

    async def get_settings(self) -> BotSettings:
        self.require()
        return await self.store.settings()

    async def save_settings(self, settings: BotSettings) -> None:
        self.require()
        await self.store.save_settings(settings)

    # --- the mini app ----------------------------------------------------------------------

    async def mini_app_user(self, init_data: str) -> tuple[str, str]:
        """The Telegram user (id, language) whose signed init data came with a mini-app call,
        refused as the bot refuses them when the allow list leaves them out."""
        user_id, language = user_of(init_data, self.require().token)
        if not await self._allowed(user_id):
            raise ApiError(403, NOT_ALLOWED, user_id=user_id)
        return user_id, language_of(language)

    # --- new mail --------------------------------------------------------------------------

    async def switched_on(self) -> bool:
        """Whether received mail gets a `telegram` outbox row: whenever the bot is configured."""
        return self.configured

    async def deliver(self, mail: StoredMail, delivery_id: int, report: MailStoredReport) -> bool:
        """The outbox's `telegram`: the mail to every Telegram user who holds its address (and
        whose binding is of the address that exists now); False when nobody does."""
        if self._api is None:
            return False
        users = await self.store.users_of(mail.address)
        holders = []
        for user_id in users:
            for binding in await self.store.bindings(user_id):
                if binding.address == mail.address and await self.addresses.is_live(binding):
                    holders.append(user_id)
        if not holders:
            return False
        facts = await mail_facts(mail.raw, mail.mail_from, mail.extracted)
        failures = []
        for user_id in holders:
            lang = await self.store.language(user_id)
            text = mail_message(lang, say(lang, "New mail to {address}", address=mail.address), facts)
            opener = await self._opener(lang, mail.id)
            try:
                await self._api.send_message(
                    int(user_id),
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=InlineKeyboardMarkup([[opener]]) if opener is not None else None,
                )
            except TelegramError as exc:
                failures.append(f"{user_id}: {type(exc).__name__}: {exc}")
        if failures:
            raise DeliveryFailed("; ".join(failures))
        return True
