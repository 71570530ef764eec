"""Retention: the admin's one-off cleanups, the scheduled auto-cleanup, and custom SQL rules.

Settings live in the `settings` table under AUTO_CLEANUP_KEY; the scheduler runs every enabled
rule hourly (as the reference's cron does). Custom SQL is limited to a single DELETE on the mail
tables ([better]: the reference would run it on any table).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from pydantic import BaseModel, Field

from tempmail.db.cleanup import ADDRESS_CLEAN_TYPES, ROW_CLEAN_TYPES, CleanupStore
from tempmail.db.kv import SettingsStore
from tempmail.db.tables import utcnow
from tempmail.errors import ApiError

log = logging.getLogger(__name__)

AUTO_CLEANUP_KEY = "auto_cleanup"
CLEAN_TYPES = ROW_CLEAN_TYPES + ADDRESS_CLEAN_TYPES
MAX_DAYS = 1000
MAX_CUSTOM_SQL = 1000
Days = Field(default=30, ge=0, le=MAX_DAYS)
# The tables a custom rule may delete from.
_CUSTOM_SQL_TARGET = re.compile(r'^delete\s+from\s+"?(raw_mails|sendbox)"?(\s|$)', re.IGNORECASE)


class CustomSqlCleanup(BaseModel):
    id: str | int = ""
    name: str = ""
    sql: str = ""
    enabled: bool = False


class AutoCleanupSettings(BaseModel):
    """`GET/POST /admin/auto_cleanup`: which rule runs, and how many days back it keeps."""

    enableMailsAutoCleanup: bool = False
    cleanMailsDays: int = Days
    enableUnknowMailsAutoCleanup: bool = False
    cleanUnknowMailsDays: int = Days
    enableSendBoxAutoCleanup: bool = False
    cleanSendBoxDays: int = Days
    enableAddressAutoCleanup: bool = False
    cleanAddressDays: int = Days
    enableInactiveAddressAutoCleanup: bool = False
    cleanInactiveAddressDays: int = Days
    enableUnboundAddressAutoCleanup: bool = False
    cleanUnboundAddressDays: int = Days
    enableEmptyAddressAutoCleanup: bool = False
    cleanEmptyAddressDays: int = Days
    customSqlCleanupList: list[CustomSqlCleanup] = Field(default_factory=list)

    def enabled_rules(self) -> list[tuple[str, int]]:
        """(clean type, days) of every switched-on rule."""
        rules = [
            (self.enableMailsAutoCleanup, "mails", self.cleanMailsDays),
            (self.enableUnknowMailsAutoCleanup, "mails_unknow", self.cleanUnknowMailsDays),
            (self.enableSendBoxAutoCleanup, "sendbox", self.cleanSendBoxDays),
            (self.enableAddressAutoCleanup, "addressCreated", self.cleanAddressDays),
            (self.enableInactiveAddressAutoCleanup, "inactiveAddress", self.cleanInactiveAddressDays),
            (self.enableUnboundAddressAutoCleanup, "unboundAddress", self.cleanUnboundAddressDays),
            (self.enableEmptyAddressAutoCleanup, "emptyAddress", self.cleanEmptyAddressDays),
        ]
        return [(clean_type, days) for enabled, clean_type, days in rules if enabled]


def validate_custom_sql(sql: str) -> str:
    """The statement, trimmed of a final `;`, or ApiError(400) with the reference's texts."""
    statement = sql.strip()
    if not statement:
        raise ApiError(400, "SQL statement is empty")
    if len(statement) > MAX_CUSTOM_SQL:
        raise ApiError(400, "SQL statement is too long (max {max} characters)", max=MAX_CUSTOM_SQL)
    if "--" in statement or "/*" in statement:
        raise ApiError(400, "SQL comments are not allowed")
    statement = statement.rstrip(";").rstrip()
    if ";" in statement:
        raise ApiError(400, "Only single SQL statement is allowed")
    if not statement.lower().startswith("delete"):
        raise ApiError(400, "Only DELETE statements are allowed")
    if not _CUSTOM_SQL_TARGET.match(statement):
        raise ApiError(400, "Only DELETE from raw_mails or sendbox is allowed")
    return statement


class CleanupService:
    def __init__(self, store: CleanupStore, kv: SettingsStore) -> None:
        self.store = store
        self.kv = kv

    async def clean(self, clean_type: str, days: int) -> int:
        """Delete what `clean_type` names that is older than `days`; the count deleted."""
        if clean_type not in CLEAN_TYPES or not 0 <= days <= MAX_DAYS:
            raise ApiError(400, "Invalid cleanType or cleanDays")
        cutoff = utcnow() - timedelta(days=days)
        if clean_type in ROW_CLEAN_TYPES:
            return await self.store.delete_rows(clean_type, cutoff)
        return await self.store.delete_addresses(clean_type, cutoff)

    async def settings(self) -> AutoCleanupSettings:
        return AutoCleanupSettings.model_validate(await self.kv.get(AUTO_CLEANUP_KEY, {}) or {})

    async def save_settings(self, settings: AutoCleanupSettings) -> None:
        for rule in settings.customSqlCleanupList:
            validate_custom_sql(rule.sql)
        await self.kv.set(AUTO_CLEANUP_KEY, settings.model_dump())

    async def run_scheduled(self) -> None:
        """The hourly job: every enabled rule, then every enabled custom statement."""
        settings = await self.settings()
        for clean_type, days in settings.enabled_rules():
            deleted = await self.clean(clean_type, days)
            log.info("auto cleanup %s older than %d days: %d deleted", clean_type, days, deleted)
        for rule in settings.customSqlCleanupList:
            if rule.enabled:
                deleted = await self.store.execute_custom(validate_custom_sql(rule.sql))
                log.info("custom cleanup %r: %d deleted", rule.name, deleted)
