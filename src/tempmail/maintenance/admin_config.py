"""The admin's free-form configuration keys (`/admin/config`, COMPAT §5): strings the reference's
admin frontend keeps for itself, stored in the settings table under `admin-config:<key>`.

The prefix keeps them apart from every key of our own, whatever name the frontend picks.
"""

from __future__ import annotations

import re
from typing import Any

from tempmail.db.kv import SettingsStore
from tempmail.errors import ApiError

KEY_PREFIX = "admin-config:"
KEY_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}"
_KEY = re.compile(KEY_PATTERN)
INVALID_KEY = "Invalid config key"
VALUE_NOT_STRING = "Config value must be a string"


def _checked_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ApiError(400, INVALID_KEY)
    return key


class AdminConfigService:
    def __init__(self, kv: SettingsStore) -> None:
        self.kv = kv

    async def get(self, key: Any) -> str | None:
        """The stored string, or None when the key was never set."""
        value = await self.kv.get(KEY_PREFIX + _checked_key(key))
        return value if isinstance(value, str) else None

    async def put(self, key: Any, value: Any) -> str:
        """Store `value` under `key` (both checked, the key first, as the reference does)."""
        checked = _checked_key(key)
        if not isinstance(value, str):
            raise ApiError(400, VALUE_NOT_STRING)
        await self.kv.set(KEY_PREFIX + checked, value)
        return checked
