"""Roles (USER_ROLES and the admin's per-role address limits): which domains and prefix a
user's new addresses get, how many the user may hold, and which roles may be assigned."""

from __future__ import annotations

import math
from typing import Any

from tempmail.config import Settings, UserRole
from tempmail.db.kv import SettingsStore
from tempmail.db.users import UserStore
from tempmail.errors import ApiError

ROLE_ADDRESS_CONFIG_KEY = "role_address_config"
USER_NOT_FOUND = "User not found"
INVALID_ROLE = "Invalid role_text"
INVALID_USER_ID = "Invalid user_id"
INVALID_MAX_COUNT = "Invalid maxAddressCount"
# Ids are BIGINT on PostgreSQL: a larger one is bad input, not a database error.
MAX_USER_ID = 2**63 - 1


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

    async def assign(self, user_id: Any, role_text: Any) -> None:
        """`POST /admin/user_roles`: a role of USER_ROLES, or "" to take the role away."""
        if isinstance(user_id, bool) or not isinstance(user_id, int) or not 1 <= user_id <= MAX_USER_ID:
            raise ApiError(400, INVALID_USER_ID)
        if role_text is None:
            role_text = ""
        if not isinstance(role_text, str):
            raise ApiError(400, INVALID_ROLE)
        role = role_text.strip()
        if role and self.config_of(role) is None:
            raise ApiError(400, INVALID_ROLE)
        if await self.store.get(user_id) is None:
            raise ApiError(400, USER_NOT_FOUND)
        await self.store.set_role(user_id, role)

    async def address_limits(self) -> dict[str, Any]:
        """The admin's `{role: {maxAddressCount}}`."""
        return dict(await self.kv.get_cached(ROLE_ADDRESS_CONFIG_KEY, {}) or {})

    async def save_address_limits(self, configs: Any) -> None:
        """Stored as given once every entry is an object whose maxAddressCount, when present,
        is a number >= 0."""
        if not isinstance(configs, dict) or not all(
            isinstance(entry, dict)
            and ("maxAddressCount" not in entry or _count(entry["maxAddressCount"]) is not None)
            for entry in configs.values()
        ):
            raise ApiError(400, INVALID_MAX_COUNT)
        await self.kv.set(ROLE_ADDRESS_CONFIG_KEY, configs)

    async def max_address_count(self, role: str | None, default: int) -> int:
        """The admin's limit for `role` when it is a number >= 0, else `default`."""
        configured = (await self.address_limits()).get(role) if role else None
        count = _count(configured.get("maxAddressCount")) if isinstance(configured, dict) else None
        return default if count is None else count


def _count(value: Any) -> int | None:
    """An address count as the reference takes one: a JSON number >= 0 (booleans are not); a
    fraction allows as many as the reference's `count >= limit` does (1.5 allows 2)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        return None
    return math.ceil(value)
