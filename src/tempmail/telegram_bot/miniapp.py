"""The mini app's routes (`/telegram/get_bind_address`, `new_address`, `bind_address`,
`unbind_address`, `get_mail`): what the chat commands do, for the Telegram user whose signed
`initData` comes with the call, answered as JSON.
"""

from __future__ import annotations

from typing import Any

from tempmail.errors import ApiError
from tempmail.inbound.mailbox import Mailbox
from tempmail.inbound.views import mail_row
from tempmail.telegram_bot.addresses import BotAddresses
from tempmail.telegram_bot.bot import TelegramBot

MAIL_NOT_FOUND = "Mail not found"


class MiniApp:
    def __init__(self, bot: TelegramBot, addresses: BotAddresses, mailbox: Mailbox) -> None:
        self.bot = bot
        self.addresses = addresses
        self.mailbox = mailbox

    async def bound(self, init_data: str) -> list[dict[str, Any]]:
        """Every address the user holds, with its credential."""
        user_id, _ = await self.bot.mini_app_user(init_data)
        return [
            {"address": item.address, "jwt": self.addresses.credential(item)}
            for item in await self.addresses.held(user_id)
        ]

    async def new_address(self, init_data: str, wanted: str | None) -> dict[str, Any]:
        user_id, _ = await self.bot.mini_app_user(init_data)
        created = await self.addresses.create(user_id, wanted)
        return {"address": created.address, "jwt": created.jwt, "address_id": created.address_id}

    async def bind(self, init_data: str, jwt: str) -> dict[str, Any]:
        user_id, _ = await self.bot.mini_app_user(init_data)
        binding = await self.addresses.bind(user_id, jwt)
        return {"address": binding.address, "jwt": self.addresses.credential(binding)}

    async def unbind(self, init_data: str, address: str) -> dict[str, Any]:
        user_id, _ = await self.bot.mini_app_user(init_data)
        await self.addresses.unbind(user_id, address)
        return {"success": True}

    async def mail(self, init_data: str, mail_id: int) -> dict[str, Any]:
        """One mail of an address the user holds, as `/api/mail/:id` shows it."""
        user_id, _ = await self.bot.mini_app_user(init_data)
        row = await self.mailbox.get(mail_id)
        if row is None or not any(item.address == row.address for item in await self.addresses.held(user_id)):
            raise ApiError(404, MAIL_NOT_FOUND)
        return mail_row(row)
