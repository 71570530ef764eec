"""The server's daily and monthly send quota (COMPAT §6.3), shared by every way of sending.

As in the reference: the counters are checked before a mail is sent, and each enabled counter
counts one more after the relay accepted it (a refused mail uses no quota); the counters of past
days and months are then deleted. They are rows of the `settings` table under the reference's
keys `send_mail_limit_count:daily:YYYY-MM-DD` and `send_mail_limit_count:monthly:YYYY-MM` (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tempmail.accounts.settings import SendMailLimitConfig
from tempmail.db.counters import CounterStore
from tempmail.db.kv import SettingsStore
from tempmail.db.tables import utcnow

COUNTER_PREFIX = "send_mail_limit_count:"
DAILY_REACHED = "Server daily send quota has been reached"
MONTHLY_REACHED = "Server monthly send quota has been reached"
# Every sent mail is counted (the limit is for the check before sending): a bound never reached.
NO_CAP = 2**31 - 1  # the counter is an INTEGER (32 bits on PostgreSQL)


class QuotaReached(Exception):
    """A quota is used up; the message is the contract's text."""


@dataclass(frozen=True, slots=True)
class Period:
    """One enabled counter at a moment: its key, its limit (None: counts only), its text."""

    prefix: str
    key: str
    limit: int | None
    reached: str


def periods(config: SendMailLimitConfig | None, now: datetime) -> list[Period]:
    """The enabled counters; a limit of -1 or null counts without limiting."""
    if config is None:
        return []
    found = []
    for enabled, name, stamp, limit, reached in (
        (config.dailyEnabled, "daily", now.strftime("%Y-%m-%d"), config.dailyLimit, DAILY_REACHED),
        (config.monthlyEnabled, "monthly", now.strftime("%Y-%m"), config.monthlyLimit, MONTHLY_REACHED),
    ):
        if enabled:
            prefix = f"{COUNTER_PREFIX}{name}:"
            found.append(Period(prefix, prefix + stamp, None if limit in (None, -1) else limit, reached))
    return found


class SendQuota:
    def __init__(self, kv: SettingsStore, counters: CounterStore) -> None:
        self.kv = kv
        self.counters = counters

    async def check(self, config: SendMailLimitConfig | None) -> None:
        """Refuse (QuotaReached) when a limited counter is already at its limit."""
        for period in periods(config, utcnow()):
            if period.limit is None:
                continue
            count = await self.kv.get(period.key, 0)
            if isinstance(count, int) and count >= period.limit:
                raise QuotaReached(period.reached)

    async def count_sent(self, config: SendMailLimitConfig | None) -> None:
        """One more mail on every enabled counter; then the counters of past days and months go
        (of both kinds, so a period switched off leaves nothing behind)."""
        if config is None:
            return
        now = utcnow()
        for period in periods(config, now):
            await self.counters.take(period.key, NO_CAP)
        everything = SendMailLimitConfig(dailyEnabled=True, monthlyEnabled=True)
        for period in periods(everything, now):
            await self.counters.drop_before(period.prefix, period.key)
