"""IP access control (COMPAT §4): the admin's settings and the check made on the guarded paths.

Settings live in the `settings` table under IP_SETTINGS_KEY, in the reference's shape, and are
validated the way the reference does it, in the same order and with the same texts: the body
is arbitrary JSON, so every type is checked here (a coercing model would take `"yes"` for a
boolean, which the reference refuses). Per-IP daily counts are `limit|<YYYY-MM-DD>|<ip>` rows
of the same table (the reference's KV key `limit|<ip>|<date>`, day first so that past days are
one range to delete), counted atomically so several nodes share one count.

ASN blacklist entries are stored and validated but never match: the reference matches them
against Cloudflare's `asOrganization`, and tempmail has no ASN data.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from tempmail.db.counters import CounterStore
from tempmail.db.kv import SettingsStore
from tempmail.errors import ApiError
from tempmail.security.ip_rules import compiled, looks_like_regex, matches_any_pattern, whitelisted

IP_SETTINGS_KEY = "ip_blacklist_settings"
DAILY_COUNT_PREFIX = "limit|"
MAX_ENTRIES = 1000
MAX_DAILY_LIMIT = 1_000_000
INVALID_SETTING = "Invalid IP blacklist setting: {detail}"
TOO_MANY = "Blacklist exceeds maximum size: {detail}"
# The refusals of `IpAccessService.check`, which /openapi.json lists on the guarded routes.
NO_CLIENT_IP = "Access denied: client IP unavailable"
NOT_WHITELISTED = "Access denied: IP {ip} is not whitelisted"
FINGERPRINT_BLACKLISTED = "Access denied: Browser fingerprint is blacklisted"
IP_BLACKLISTED = "Access denied: IP {ip} is blacklisted"
DAILY_LIMIT = "IP={ip} Exceeded daily limit of {limit} requests"
ACCESS_REFUSALS = {
    403: [NO_CLIENT_IP, NOT_WHITELISTED, FINGERPRINT_BLACKLISTED, IP_BLACKLISTED],
    429: [DAILY_LIMIT],
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "enabled": False,
    "blacklist": [],
    "asnBlacklist": [],
    "fingerprintBlacklist": [],
    "enableWhitelist": False,
    "whitelist": [],
    "enableDailyLimit": False,
    "dailyRequestLimit": 1000,
}
_BLACKLISTS = ("blacklist", "asnBlacklist", "fingerprintBlacklist")
# JavaScript's Number() of a string, after trimming: decimal (with Infinity), hex, octal, binary.
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_JS_RADIX = re.compile(r"0(?:[xX](?P<x>[0-9a-fA-F]+)|[oO](?P<o>[0-7]+)|[bB](?P<b>[01]+))")
_BASES = {"x": 16, "o": 8, "b": 2}


def _js_number(value: Any) -> float:
    """`Number(value)` as the reference computes it for `dailyRequestLimit` (NaN if none)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return 0.0
    if isinstance(value, list):
        if not value:
            return 0.0
        only = value[0] if len(value) == 1 else None
        # String([x]) is x's text, which for a boolean is "true": no number.
        return (
            _js_number(only)
            if isinstance(only, str | int | float) and not isinstance(only, bool)
            else math.nan
        )
    if not isinstance(value, str):
        return math.nan
    text = value.strip()
    if not text:
        return 0.0
    radix = _JS_RADIX.fullmatch(text)
    if radix is not None:
        name = radix.lastgroup or "x"
        return float(int(radix[name], _BASES[name]))
    return float(text.replace("Infinity", "inf")) if _JS_DECIMAL.fullmatch(text) else math.nan


def _invalid(detail: str) -> ApiError:
    return ApiError(400, INVALID_SETTING, detail=detail)


def _cleaned(entries: list[str]) -> list[str]:
    return [entry.strip() for entry in entries if entry.strip()]


def validated(body: Any) -> dict[str, Any]:
    """The settings to store, or the reference's first complaint about them (ApiError 400)."""
    given = dict(body) if isinstance(body, dict) else {}
    given.setdefault("enableWhitelist", False)
    given.setdefault("whitelist", [])
    if not isinstance(given.get("enabled"), bool):
        raise _invalid("enabled")
    for name in _BLACKLISTS:
        if not isinstance(given.get(name), list):
            raise _invalid(name)
    if not isinstance(given["enableWhitelist"], bool):
        raise _invalid("enableWhitelist")
    if not isinstance(given["whitelist"], list):
        raise _invalid("whitelist")
    if not isinstance(given.get("enableDailyLimit"), bool):
        raise _invalid("enableDailyLimit")
    limit = _js_number(given.get("dailyRequestLimit"))
    if math.isnan(limit) or not 1 <= limit <= MAX_DAILY_LIMIT:
        raise _invalid(f"dailyRequestLimit (1-{MAX_DAILY_LIMIT})")
    for name in _BLACKLISTS:
        if len(given[name]) > MAX_ENTRIES:
            raise ApiError(400, TOO_MANY, detail=f"{name} ({MAX_ENTRIES})")
    whitelist = given["whitelist"]
    if len(whitelist) > MAX_ENTRIES:
        raise ApiError(400, TOO_MANY, detail=f"whitelist ({len(whitelist)}/{MAX_ENTRIES})")
    for entry in whitelist:
        if not isinstance(entry, str):
            raise _invalid("whitelist element must be a string")
        if looks_like_regex(entry) and compiled(entry) is None:
            raise _invalid(f"whitelist invalid regex: {entry}")
    for name in _BLACKLISTS:
        # Not named by the reference (it fails on them): refused with the list's name.
        if not all(isinstance(entry, str) for entry in given[name]):
            raise _invalid(name)
    return {
        "enabled": given["enabled"],
        **{name: _cleaned(given[name]) for name in _BLACKLISTS},
        "enableWhitelist": given["enableWhitelist"],
        "whitelist": _cleaned(whitelist),
        "enableDailyLimit": given["enableDailyLimit"],
        "dailyRequestLimit": int(limit) if limit.is_integer() else limit,
    }


class IpAccessService:
    def __init__(self, kv: SettingsStore, counters: CounterStore) -> None:
        self.kv = kv
        self.counters = counters
        self._counting_day = ""

    async def settings(self) -> dict[str, Any]:
        """What is stored, else the reference's default object."""
        stored = await self.kv.get(IP_SETTINGS_KEY)
        return dict(DEFAULT_SETTINGS) if stored is None else dict(stored)

    async def save(self, body: Any) -> None:
        """Validate the whole body first: a refused body writes nothing."""
        await self.kv.set(IP_SETTINGS_KEY, validated(body))

    async def check(self, ip: str, fingerprint: str) -> None:
        """Let a guarded request through, or ApiError 403/429 with the reference's texts.

        `ip` is "" when the client's address is unknown. Settings are cached for a few seconds
        (they are read on every guarded request); a save on this node is seen at once."""
        rules = await self.kv.get_cached(IP_SETTINGS_KEY)
        if not isinstance(rules, dict):
            return
        allowed = False
        if rules.get("enableWhitelist") and rules.get("whitelist"):
            if not ip:
                raise ApiError(403, NO_CLIENT_IP)
            if not whitelisted(ip, rules["whitelist"]):
                raise ApiError(403, NOT_WHITELISTED, ip=ip)
            allowed = True
        blocking = bool(rules.get("enabled")) and not allowed
        fingerprints = rules.get("fingerprintBlacklist") or []
        if blocking and fingerprint and matches_any_pattern(fingerprint, fingerprints):
            raise ApiError(403, FINGERPRINT_BLACKLISTED)
        if not ip:
            return
        if blocking and matches_any_pattern(ip, rules.get("blacklist") or []):
            raise ApiError(403, IP_BLACKLISTED, ip=ip)
        limit = rules.get("dailyRequestLimit")
        if rules.get("enableDailyLimit") and isinstance(limit, int | float) and limit > 0:
            await self._count(ip, limit)

    async def _count(self, ip: str, limit: float) -> None:
        """One more request of `ip` today (UTC), unless it already made `limit` of them."""
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        if today != self._counting_day:
            # A new day on this node: yesterday's counts are dead weight.
            await self.counters.drop_before(DAILY_COUNT_PREFIX, f"{DAILY_COUNT_PREFIX}{today}|")
            self._counting_day = today
        # Refused once the count reached the limit; for counts, reaching 2.5 is reaching 3.
        if not await self.counters.take(f"{DAILY_COUNT_PREFIX}{today}|{ip}", math.ceil(limit)):
            raise ApiError(429, DAILY_LIMIT, ip=ip, limit=limit)
