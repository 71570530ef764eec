"""What the bot keeps: the admin's bot settings, each Telegram user's addresses, the polling offset.

All of it lives in the settings table (the reference's KV). A user's addresses are kept as the
claims of their credentials (name and id), so an address deleted and created again under the
same name by someone else is not theirs; the reverse key (address -> users) is what a new mail
looks up, through the cache (read once per mail that arrives while the bot is on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from tempmail.db.kv import SettingsStore

SETTINGS_KEY = "telegram_settings"
USER_PREFIX = "telegram:user:"
ADDRESS_PREFIX = "telegram:address:"
OFFSET_KEY = "telegram:poll_offset"


class BotSettings(BaseModel):
    """`GET/POST /admin/telegram/settings` (the reference's names)."""

    enableAllowList: bool = False
    # Telegram user ids, as strings.
    allowList: list[str] = Field(default_factory=list, max_length=10_000)
    # The mini app (a page in Telegram's WebView); empty: no mini-app buttons.
    miniAppUrl: str = Field(default="", max_length=2048)


@dataclass(frozen=True, slots=True)
class Binding:
    """An address a Telegram user holds, as its credential names it."""

    address: str
    address_id: int

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "address_id": self.address_id}


def _bindings(stored: Any) -> list[Binding]:
    if not isinstance(stored, list):
        return []
    return [
        Binding(str(item["address"]), int(item["address_id"]))
        for item in stored
        if isinstance(item, dict) and "address" in item and isinstance(item.get("address_id"), int)
    ]


class BotStore:
    def __init__(self, kv: SettingsStore) -> None:
        self.kv = kv

    async def settings(self) -> BotSettings:
        return BotSettings.model_validate(await self.kv.get_cached(SETTINGS_KEY, {}) or {})

    async def save_settings(self, settings: BotSettings) -> None:
        await self.kv.set(SETTINGS_KEY, settings.model_dump())

    async def bindings(self, user_id: str) -> list[Binding]:
        """The user's addresses, oldest first."""
        return _bindings((await self._user(user_id)).get("addresses"))

    async def language(self, user_id: str) -> str:
        """The language of the user's last command (their notifications are written in it)."""
        return str((await self._user(user_id)).get("lang") or "en")

    async def remember_language(self, user_id: str, lang: str) -> None:
        """Kept when it changes only: most commands write nothing here."""
        user = await self._user(user_id)
        if user.get("lang") != lang:
            await self.kv.set(USER_PREFIX + user_id, {**user, "lang": lang})

    async def users_of(self, address: str) -> list[str]:
        """The Telegram users an address's new mail goes to (cached: read for every mail)."""
        stored = await self.kv.get_cached(ADDRESS_PREFIX + address, [])
        return [str(user) for user in stored] if isinstance(stored, list) else []

    async def bind(self, user_id: str, binding: Binding) -> None:
        kept = [item for item in await self.bindings(user_id) if item.address != binding.address]
        await self._write(user_id, [*kept, binding])
        users = await self.kv.get(ADDRESS_PREFIX + binding.address, [])
        if user_id not in users:
            await self.kv.set(ADDRESS_PREFIX + binding.address, [*users, user_id])

    async def unbind(self, user_id: str, address: str) -> bool:
        """False when the user did not hold it."""
        held = await self.bindings(user_id)
        kept = [item for item in held if item.address != address]
        if len(kept) == len(held):
            return False
        await self._write(user_id, kept)
        users = [user for user in await self.kv.get(ADDRESS_PREFIX + address, []) if user != user_id]
        if users:
            await self.kv.set(ADDRESS_PREFIX + address, users)
        else:
            await self.kv.write_many({}, [ADDRESS_PREFIX + address])
        return True

    async def _user(self, user_id: str) -> dict[str, Any]:
        stored = await self.kv.get(USER_PREFIX + user_id)
        return stored if isinstance(stored, dict) else {}

    async def _write(self, user_id: str, bindings: list[Binding]) -> None:
        user = await self._user(user_id)
        await self.kv.set(USER_PREFIX + user_id, {**user, "addresses": [item.as_json() for item in bindings]})

    async def poll_offset(self) -> int | None:
        """The next update to ask getUpdates for: whichever node polls next goes on from it."""
        offset = await self.kv.get(OFFSET_KEY)
        return offset if isinstance(offset, int) else None

    async def save_poll_offset(self, offset: int) -> None:
        await self.kv.set(OFFSET_KEY, offset)
