"""Retention (COMPAT §9): the admin's one-off cleanups, the scheduled auto-cleanup, custom SQL.

As the reference: one `/admin/cleanup` call deletes at most one CLEANUP_BATCH_SIZE batch, oldest
first, of the batched kinds (mails, sendbox, inactiveAddress, addressCreated) and everything
that qualifies of the others; every failure is `500 Operation failed: <why>`. The auto-cleanup
settings (key `auto_cleanup`) are stored exactly as posted, once each custom statement passed
the reference's checks (plus ours, last: only the mail tables may be deleted from).

The scheduler (hourly, as the reference's cron) runs the enabled kinds in the reference's order,
then each enabled custom statement; unlike the reference it repeats a batched kind's batch
until nothing is left, so a backlog larger than one batch an hour cannot grow for ever.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

# CLEAN_TYPES: the clean types there are, for the routes (which see no store).
from tempmail.db.cleanup import BATCHED_CLEAN_TYPES, CleanupStore
from tempmail.db.cleanup import CLEAN_TYPES as CLEAN_TYPES
from tempmail.db.kv import SettingsStore
from tempmail.db.tables import utcnow
from tempmail.errors import INVALID_INPUT, ApiError

log = logging.getLogger(__name__)

AUTO_CLEANUP_KEY = "auto_cleanup"
MAX_DAYS = 1000
MAX_CUSTOM_SQL = 1000
FORM_DAYS = 30
INVALID_CONFIG = "Invalid cleanType or cleanDays"
INVALID_TYPE = "Invalid cleanType"
OPERATION_FAILED = "Operation failed: {inner}"
CUSTOM_SQL_REFUSED = "[{name}]: {inner}"
# (enable flag, days field, clean type) of the auto-cleanup settings, in the order they run.
SCHEDULED = (
    ("enableMailsAutoCleanup", "cleanMailsDays", "mails"),
    ("enableUnknowMailsAutoCleanup", "cleanUnknowMailsDays", "mails_unknow"),
    ("enableSendBoxAutoCleanup", "cleanSendBoxDays", "sendbox"),
    ("enableInactiveAddressAutoCleanup", "cleanInactiveAddressDays", "inactiveAddress"),
    ("enableAddressAutoCleanup", "cleanAddressDays", "addressCreated"),
    ("enableUnboundAddressAutoCleanup", "cleanUnboundAddressDays", "unboundAddress"),
    ("enableEmptyAddressAutoCleanup", "cleanEmptyAddressDays", "emptyAddress"),
)
# The tables a custom rule may delete from (ours: the reference allows any).
_CUSTOM_SQL_TARGET = re.compile(r'^delete\s+from\s+"?(raw_mails|sendbox)"?(\s|$)', re.IGNORECASE)


class InvalidCleanup(Exception):
    """A cleanup that cannot run; the message is the reference's text."""


def validate_custom_sql(sql: str) -> str:
    """The statement, trimmed of one final `;`, or InvalidCleanup with the reference's text;
    the checks run in the reference's order, ours last."""
    statement = sql.strip()
    if statement.endswith(";"):
        statement = statement[:-1].strip()
    if not statement:
        raise InvalidCleanup("SQL statement is empty")
    if len(statement) > MAX_CUSTOM_SQL:
        raise InvalidCleanup("SQL statement is too long (max 1000 characters)")
    if not statement.upper().startswith("DELETE "):
        raise InvalidCleanup("Only DELETE statements are allowed")
    if ";" in statement:
        raise InvalidCleanup("Only single SQL statement is allowed")
    if "--" in statement or "/*" in statement:
        raise InvalidCleanup("SQL comments are not allowed")
    if not _CUSTOM_SQL_TARGET.match(statement):
        raise InvalidCleanup("Only DELETE from raw_mails or sendbox is allowed")
    return statement


def custom_rules(settings: Any) -> list[Any]:
    """The `customSqlCleanupList` entries that are objects (the settings are stored as posted)."""
    rules = settings.get("customSqlCleanupList") if isinstance(settings, dict) else None
    return [rule for rule in rules if isinstance(rule, dict)] if isinstance(rules, list) else []


def _days(value: Any) -> float:
    """cleanDays: a JSON number (not a string, not a boolean) in 0..1000."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_DAYS:
        raise InvalidCleanup(INVALID_CONFIG)
    return float(value)


class CleanupService:
    def __init__(self, store: CleanupStore, kv: SettingsStore) -> None:
        self.store = store
        self.kv = kv

    async def _clean_once(self, clean_type: Any, days: Any) -> int:
        """One run of the reference's cleanup: one batch of a batched kind, all of another."""
        if not clean_type:
            raise InvalidCleanup(INVALID_CONFIG)
        cutoff = utcnow() - timedelta(days=_days(days))
        if clean_type not in CLEAN_TYPES:
            raise InvalidCleanup(INVALID_TYPE)
        return await self.store.delete(str(clean_type), cutoff)

    async def clean(self, clean_type: Any, days: Any) -> None:
        """`POST /admin/cleanup`: any failure, bad input included, is the reference's 500."""
        try:
            await self._clean_once(clean_type, days)
        except InvalidCleanup as exc:
            raise ApiError(500, OPERATION_FAILED, inner=str(exc)) from None
        except Exception as exc:
            log.exception("cleanup %s failed", clean_type)
            raise ApiError(500, OPERATION_FAILED, inner=str(exc)) from None

    async def settings(self) -> Any:
        """What was last posted, or None when never saved."""
        return await self.kv.get(AUTO_CLEANUP_KEY)

    async def form_settings(self) -> dict[str, Any]:
        """The settings with every field the admin console's form shows filled in (off, 30
        days, no custom rule where nothing was saved)."""
        stored = await self.settings()
        filled: dict[str, Any] = {"customSqlCleanupList": []}
        for enabled, days_field, _ in SCHEDULED:
            filled.update({enabled: False, days_field: FORM_DAYS})
        return {**filled, **(stored if isinstance(stored, dict) else {})}

    async def save_settings(self, settings: Any) -> None:
        """Stored as given once every non-empty custom statement passes the checks."""
        if not isinstance(settings, dict):
            raise ApiError(400, INVALID_INPUT)
        for rule in custom_rules(settings):
            sql = rule.get("sql")
            if not sql:
                continue
            try:
                validate_custom_sql(str(sql))
            except InvalidCleanup as exc:
                raise ApiError(
                    400, CUSTOM_SQL_REFUSED, name=rule.get("name") or "unnamed", inner=str(exc)
                ) from None
        await self.kv.set(AUTO_CLEANUP_KEY, settings)

    async def run_scheduled(self) -> None:
        """The hourly job: every enabled kind, then every enabled custom statement; one that
        fails is logged and the others still run."""
        settings = await self.settings()
        if not isinstance(settings, dict):
            return
        for enabled, days_field, clean_type in SCHEDULED:
            if settings.get(enabled):
                await self._scheduled_kind(clean_type, settings.get(days_field))
        for rule in custom_rules(settings):
            if rule.get("enabled") and rule.get("sql"):
                try:
                    deleted = await self.store.execute_custom(validate_custom_sql(str(rule["sql"])))
                except Exception:
                    log.exception("custom cleanup %r failed", rule.get("name"))
                else:
                    log.info("custom cleanup %r: %d deleted", rule.get("name"), deleted)

    async def _scheduled_kind(self, clean_type: str, days: Any) -> None:
        total = 0
        try:
            while True:
                deleted = await self._clean_once(clean_type, days)
                total += deleted
                if clean_type not in BATCHED_CLEAN_TYPES or deleted < self.store.batch:
                    break
        except Exception:
            log.exception("auto cleanup %s failed", clean_type)
        log.info("auto cleanup %s older than %s days: %d deleted", clean_type, days, total)
