"""Roles (USER_ROLES and the admin's per-role address limits): which domains and prefix a
user's new addresses get, how many the user may hold, and which roles may be assigned."""

from __future__ import annotations

from typing import Any

from tempmail.config import Settings, UserRole
from tempmail.db.kv import SettingsStore
from tempmail.db.users import UserStore
from tempmail.errors import ApiError

ROLE_ADDRESS_CONFIG_KEY = "role_address_config"
USER_NOT_FOUND = "User not found"


class Roles:
    def __init__(self, settings: Settings, store: UserStore, kv: SettingsStore) -> None:
        self.settings = settings
        self.store = store
        self.kv = kv

    def config_of(self, role: str | None) -> UserRole | None:
        """The USER_ROLES entry of a role name."""
        return next((r for r in self.settings.USER_ROLES if role and r.role == role), None)

    async def role_of(self, user_id: int) -> str | None:
        return await self.store.role(user_id)

    def known(self) -> set[str]:
        """Every role named anywhere in the configuration."""
        cfg = self.settings
        return {role.role for role in cfg.USER_ROLES} | {
            role for role in (cfg.USER_DEFAULT_ROLE, cfg.ADMIN_USER_ROLE, *cfg.NO_LIMIT_SEND_ROLE) if role
        }

    async def assign(self, user_id: int, role_text: str) -> None:
        """A role not configured anywhere would silently grant nothing, so it is refused; an
        empty one takes the role away."""
        role = role_text.strip()
        if role and role not in self.known():
            raise ApiError(400, "Invalid role: {role}", role=role)
        if await self.store.get(user_id) is None:
            raise ApiError(400, USER_NOT_FOUND)
        await self.store.set_role(user_id, role)

    async def address_limits(self) -> dict[str, Any]:
        """The admin's `{role: {maxAddressCount}}`."""
        return dict(await self.kv.get_cached(ROLE_ADDRESS_CONFIG_KEY, {}) or {})

    async def save_address_limits(self, configs: dict[str, Any]) -> None:
        await self.kv.set(ROLE_ADDRESS_CONFIG_KEY, configs)

    async def max_address_count(self, user_id: int, default: int) -> int:
        """The role's own limit (the admin's address limits) if it has one, else `default`."""
        role = await self.store.role(user_id)
        configured = (await self.address_limits()).get(role or "") if role else None
        if isinstance(configured, dict) and isinstance(configured.get("maxAddressCount"), int):
            return int(configured["maxAddressCount"])
        return default
