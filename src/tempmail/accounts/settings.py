"""The admin's account settings (COMPAT §11): block lists, no-limit senders, receive rules, the
address-creation override and the server's send quota.

Stored as the reference stores them, one `settings` row per item under its keys (so its custom
cleanup SQL and database imports see the same rows); read together in one query and kept in
memory briefly, since every received mail reads them. A POST is validated as a whole before
anything is written, and then written in one transaction: a bad payload changes nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tempmail.config import Settings
from tempmail.db.account_settings_keys import ADDRESS_CREATION_KEY, EMAIL_RULES_KEY, LIST_KEYS, SEND_LIMIT_KEY
from tempmail.db.kv import CACHE_SECONDS, SettingsStore
from tempmail.errors import INVALID_INPUT, ApiError
from tempmail.ttl_cache import TtlCache

SEND_MAIL_DISABLED = "Please enable SEND_MAIL first"

ALL_KEYS = [*LIST_KEYS.values(), EMAIL_RULES_KEY, ADDRESS_CREATION_KEY, SEND_LIMIT_KEY]
REQUIRED = ("blockList", "sendBlockList", "verifiedAddressList")


class SendMailLimitConfig(BaseModel):
    """The server-wide quota: a limit counts only when enabled; -1 is unlimited, and a disabled
    limit is kept as null."""

    dailyEnabled: bool = False
    monthlyEnabled: bool = False
    dailyLimit: int | None = None
    monthlyLimit: int | None = None


class AccountSettings(BaseModel):
    """What the receive pipeline, address creation and sending read."""

    model_config = ConfigDict(frozen=True)

    blockList: list[str] = Field(default_factory=list)
    sendBlockList: list[str] = Field(default_factory=list)
    verifiedAddressList: list[str] = Field(default_factory=list)
    fromBlockList: list[str] = Field(default_factory=list)
    noLimitSendAddressList: list[str] = Field(default_factory=list)
    emailRuleSettings: dict[str, Any] = Field(default_factory=dict)
    addressCreationSettings: dict[str, bool] = Field(default_factory=dict)
    sendMailLimitConfig: SendMailLimitConfig | None = None


def _is_truthy(value: Any) -> bool:
    """JavaScript truthiness, as the reference tests its required keys (`[]` and `{}` pass)."""
    return isinstance(value, (list, dict)) or bool(value)


def _string_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError(400, INVALID_INPUT)
    return list(value)


def _integer(value: Any) -> int | None:
    """An integer >= -1 (a JSON `5.0` is the integer 5, as in JavaScript), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value >= -1 else None


def parse_send_limit(value: Any) -> SendMailLimitConfig:
    """The §6.3 object as it is stored: a disabled limit becomes null; anything malformed is
    `400 Invalid input`."""
    if not isinstance(value, dict):
        raise ApiError(400, INVALID_INPUT)
    enabled = {name: value.get(f"{name}Enabled") for name in ("daily", "monthly")}
    if not all(isinstance(flag, bool) for flag in enabled.values()):
        raise ApiError(400, INVALID_INPUT)
    limits: dict[str, int | None] = {}
    for name, on in enabled.items():
        given = value.get(f"{name}Limit")
        limit = _integer(given)
        if limit is None and (on or given is not None):
            raise ApiError(400, INVALID_INPUT)
        limits[name] = limit if on else None
    return SendMailLimitConfig(
        dailyEnabled=bool(enabled["daily"]),
        monthlyEnabled=bool(enabled["monthly"]),
        dailyLimit=limits["daily"],
        monthlyLimit=limits["monthly"],
    )


def _subdomain_override(body: dict[str, Any]) -> tuple[bool, bool | None]:
    """(whether to change the override, the new value or None to clear it), per §11.3 step 2."""
    if "addressCreationSettings" not in body:
        return False, None
    creation = body["addressCreationSettings"]
    if not isinstance(creation, dict):
        raise ApiError(400, INVALID_INPUT)
    if "enableSubdomainMatch" not in creation:
        return False, None
    value = creation["enableSubdomainMatch"]
    if value is not None and not isinstance(value, bool):
        raise ApiError(400, INVALID_INPUT)
    return True, value


def plan_update(body: Any) -> tuple[dict[str, Any], list[str]]:
    """The rows a POST writes and deletes, after every check of §11.3 passed (in its order)."""
    if not isinstance(body, dict) or not all(_is_truthy(body.get(key)) for key in REQUIRED):
        raise ApiError(400, INVALID_INPUT)
    lists = {name: _string_list(body[name]) for name in REQUIRED}
    lists["noLimitSendAddressList"] = _string_list(body.get("noLimitSendAddressList") or [])
    from_block = _string_list(body.get("fromBlockList") or [])
    rules = body.get("emailRuleSettings")
    rules = {} if rules is None else rules
    # The receive pipeline walks the forwarding rules: they must at least be a list.
    if not isinstance(rules, dict) or not isinstance(rules.get("emailForwardingList", []), list):
        raise ApiError(400, INVALID_INPUT)
    change_override, override = _subdomain_override(body)
    if lists["verifiedAddressList"]:
        raise ApiError(400, SEND_MAIL_DISABLED)
    limit = parse_send_limit(body["sendMailLimitConfig"]) if "sendMailLimitConfig" in body else None
    writes: dict[str, Any] = {LIST_KEYS[name]: value for name, value in lists.items()}
    # The reference quirk: an empty fromBlockList leaves the stored one as it is.
    if from_block:
        writes[LIST_KEYS["fromBlockList"]] = from_block
    writes[EMAIL_RULES_KEY] = rules
    removes: list[str] = []
    if change_override and override is None:
        removes.append(ADDRESS_CREATION_KEY)
    elif change_override:
        writes[ADDRESS_CREATION_KEY] = {"enableSubdomainMatch": override}
    if limit is not None:
        writes[SEND_LIMIT_KEY] = limit.model_dump()
    return writes, removes


def _stored_list(value: Any) -> list[str]:
    """A stored list, tolerating rows written by hand or imported (non-strings dropped)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _stored_rules(value: Any) -> dict[str, Any]:
    """The stored receive rules; forwarding rules that are not a list read as none."""
    if not isinstance(value, dict):
        return {}
    if isinstance(value.get("emailForwardingList", []), list):
        return value
    return {key: item for key, item in value.items() if key != "emailForwardingList"}


def from_rows(rows: dict[str, Any]) -> AccountSettings:
    """The settings of the stored rows; a row of the wrong shape reads as its default."""
    creation = rows.get(ADDRESS_CREATION_KEY)
    match = creation.get("enableSubdomainMatch") if isinstance(creation, dict) else None
    rules = rows.get(EMAIL_RULES_KEY)
    limit: SendMailLimitConfig | None = None
    if SEND_LIMIT_KEY in rows:
        try:
            limit = parse_send_limit(rows[SEND_LIMIT_KEY])
        except ApiError:
            limit = None
    return AccountSettings(
        **{name: _stored_list(rows.get(key)) for name, key in LIST_KEYS.items()},
        emailRuleSettings=_stored_rules(rules),
        addressCreationSettings={"enableSubdomainMatch": match} if isinstance(match, bool) else {},
        sendMailLimitConfig=limit,
    )


class AccountSettingsService:
    def __init__(self, settings: Settings, kv: SettingsStore) -> None:
        self.settings = settings
        self.kv = kv
        # The settings' own rows' generation: a write through any worker of this server is seen
        # by all at once (see SettingsStore).
        self._cache: TtlCache[str, AccountSettings] = TtlCache(CACHE_SECONDS, generation=kv.generation)

    async def get(self) -> AccountSettings:
        """Read on every received mail: one query at most every few seconds per node, and
        after each write."""
        return await self._cache.fetch("", self._read)

    async def _read(self) -> AccountSettings:
        return from_rows(await self.kv.get_many(ALL_KEYS))

    async def update(self, body: Any) -> None:
        """Store a POST body (§11.3): all of it once every check passed, or nothing."""
        writes, removes = plan_update(body)
        # write_many bumps the generation the cache shares: stale here and in every worker.
        await self.kv.write_many(writes, removes)

    def subdomain_match_status(self, account: AccountSettings) -> dict[str, bool]:
        """§11.4: ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH=false is a kill switch the admin cannot
        override; otherwise the admin's stored choice, else the environment's."""
        env = self.settings.ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH
        stored = account.addressCreationSettings.get("enableSubdomainMatch")
        effective = False if env is False else stored if stored is not None else bool(env)
        status = {"envConfigured": env is not None, "envEnabled": bool(env)}
        if stored is not None:
            status["storedEnabled"] = stored
        return {**status, "effectiveEnabled": effective}

    async def subdomain_match(self) -> bool:
        """Whether a new address may be made on a subdomain of an allowed domain."""
        return self.subdomain_match_status(await self.get())["effectiveEnabled"]

    async def view(self) -> dict[str, Any]:
        """`GET /admin/account_settings`, in the reference's shape."""
        account = await self.get()
        body = account.model_dump(exclude={"sendMailLimitConfig"})
        body["addressCreationSubdomainMatchStatus"] = self.subdomain_match_status(account)
        limit = account.sendMailLimitConfig
        body["sendMailLimitConfig"] = limit.model_dump() if limit is not None else None
        return body
