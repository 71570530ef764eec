"""The admin's account settings (API.md §7): block lists, no-limit senders, receive rules,
address creation overrides and send quotas, kept as one JSON document in the settings table."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tempmail.db.kv import SettingsStore

ACCOUNT_SETTINGS_KEY = "account_settings"


class SendMailLimits(BaseModel):
    """Server-wide send quotas; 0 means no limit."""

    model_config = ConfigDict(extra="allow")

    dailyLimit: int = Field(default=0, ge=0)
    monthlyLimit: int = Field(default=0, ge=0)


class AccountSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    blockList: list[str] = Field(default_factory=list)
    sendBlockList: list[str] = Field(default_factory=list)
    verifiedAddressList: list[str] = Field(default_factory=list)
    fromBlockList: list[str] = Field(default_factory=list)
    noLimitSendAddressList: list[str] = Field(default_factory=list)
    emailRuleSettings: dict[str, Any] = Field(default_factory=dict)
    addressCreationSettings: dict[str, Any] = Field(default_factory=dict)
    addressCreationSubdomainMatchStatus: bool | None = None
    sendMailLimitConfig: SendMailLimits = Field(default_factory=SendMailLimits)


class AccountSettingsService:
    def __init__(self, kv: SettingsStore) -> None:
        self.kv = kv
        self._read: tuple[Any, AccountSettings] | None = None

    async def get(self) -> AccountSettings:
        """Read on every received mail: the cached document is validated once, not per call."""
        raw = await self.kv.get_cached(ACCOUNT_SETTINGS_KEY)
        if self._read is None or self._read[0] is not raw:
            self._read = (raw, AccountSettings.model_validate(raw or {}))
        return self._read[1]

    async def update(self, changes: AccountSettings) -> AccountSettings:
        """Apply the keys the admin sent; a key left out keeps its stored value."""
        stored = await self.kv.get(ACCOUNT_SETTINGS_KEY, {}) or {}
        merged = {**stored, **changes.model_dump(include=changes.model_fields_set)}
        settings = AccountSettings.model_validate(merged)
        await self.kv.set(ACCOUNT_SETTINGS_KEY, settings.model_dump())
        return settings
