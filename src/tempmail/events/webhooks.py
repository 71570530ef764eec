"""Webhooks (API.md §8): tell another service about each stored mail.

Settings live in the settings table (per address, the admin's allow list, and one webhook for
every mail). Delivery runs after the commit, in the background, with a timeout and retries with
back-off: a slow or dead receiver never slows or loses a mail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import httpx
from pydantic import BaseModel, Field

from tempmail.config import Settings
from tempmail.db.kv import SettingsStore
from tempmail.errors import ApiError
from tempmail.inbound.codes import extract_from
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.parse import parse_mail

log = logging.getLogger(__name__)

ADDRESS_WEBHOOK_PREFIX = "webhook:"
ALLOW_LIST_KEY = "webhook_settings"
MAIL_WEBHOOK_KEY = "mail_webhook_settings"
TIMEOUT_SECONDS = 10.0
RETRY_DELAYS = (1.0, 4.0, 15.0)
DELIVERY_CONCURRENCY = 4
NOT_ENABLED = "Webhook is not enabled, please contact the administrator"
DEFAULT_BODY = json.dumps(
    {
        "id": "${id}",
        "url": "${url}",
        "from": "${from}",
        "to": "${to}",
        "subject": "${subject}",
        "raw": "${raw}",
        "parsedText": "${parsedText}",
        "parsedHtml": "${parsedHtml}",
        "aiExtractType": "${aiExtractType}",
        "aiExtractResult": "${aiExtractResult}",
    },
    indent=2,
)
_VARIABLE = re.compile(r"\$\{(\w+)\}")


class WebhookSettings(BaseModel):
    enabled: bool = False
    url: str = Field(default="", max_length=2048)
    method: str = "POST"
    headers: str = Field(default="{}", description="a JSON object, as text")
    body: str = DEFAULT_BODY


class AllowList(BaseModel):
    enableAllowList: bool = False
    allowList: list[str] = Field(default_factory=list)


class WebhookFailed(Exception):
    """A delivery did not get a 2xx answer."""


def mail_variables(mail: StoredMail, frontend_url: str) -> dict[str, str]:
    """The template variables of one mail."""
    parsed = parse_mail(mail.raw)
    found = extract_from(parsed)
    return {
        "id": str(mail.id),
        "url": f"{frontend_url}?mail_id={mail.id}" if frontend_url else "",
        "from": parsed.sender or mail.mail_from,
        "to": mail.address,
        "subject": parsed.subject,
        "raw": mail.raw.decode("utf-8", errors="replace"),
        "parsedText": parsed.text,
        "parsedHtml": parsed.html,
        "aiExtractType": found.type,
        "aiExtractResult": found.result,
        "aiExtractResultText": found.result_text,
    }


def render(template: str, variables: dict[str, str]) -> str:
    """Replace `${name}` by the JSON-string-escaped value, so a JSON template stays valid JSON."""

    def value(match: re.Match[str]) -> str:
        if match[1] not in variables:
            return match[0]
        return json.dumps(variables[match[1]], ensure_ascii=False)[1:-1]

    return _VARIABLE.sub(value, template)


def _headers(setting: WebhookSettings) -> dict[str, str]:
    try:
        decoded = json.loads(setting.headers or "{}")
    except json.JSONDecodeError as exc:
        raise ApiError(400, "Invalid input: {detail}", detail=f"headers: not JSON ({exc.msg})") from None
    if not isinstance(decoded, dict):
        raise ApiError(400, "Invalid input: {detail}", detail="headers: a JSON object is required")
    return {str(key): str(value) for key, value in decoded.items()}


def validate(setting: WebhookSettings) -> None:
    """A setting that could never be delivered is refused when it is saved."""
    if setting.enabled and not setting.url.startswith(("http://", "https://")):
        raise ApiError(400, "Invalid input: {detail}", detail="url: an http(s) URL is required")
    if setting.method.upper() not in ("POST", "PUT", "PATCH", "GET"):
        raise ApiError(400, "Invalid input: {detail}", detail="method: POST, PUT, PATCH or GET")
    _headers(setting)


class WebhookService:
    def __init__(self, settings: Settings, kv: SettingsStore, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.kv = kv
        self.http = http
        # Deliveries in flight at once: each attempt holds one, the waits between retries don't.
        self._slots = asyncio.Semaphore(DELIVERY_CONCURRENCY)

    def _require_enabled(self) -> None:
        if not self.settings.ENABLE_WEBHOOK:
            raise ApiError(403, NOT_ENABLED)

    async def allow_list(self) -> AllowList:
        return AllowList.model_validate(await self.kv.get_cached(ALLOW_LIST_KEY, {}) or {})

    async def save_allow_list(self, allow: AllowList) -> None:
        await self.kv.set(ALLOW_LIST_KEY, allow.model_dump())

    async def _require_allowed(self, address: str) -> None:
        self._require_enabled()
        allow = await self.allow_list()
        if allow.enableAllowList and address not in allow.allowList:
            raise ApiError(403, "Webhook is not allowed for this address")

    async def address_setting(self, address: str) -> WebhookSettings:
        await self._require_allowed(address)
        return WebhookSettings.model_validate(await self.kv.get(ADDRESS_WEBHOOK_PREFIX + address, {}) or {})

    async def save_address_setting(self, address: str, setting: WebhookSettings) -> None:
        await self._require_allowed(address)
        validate(setting)
        await self.kv.set(ADDRESS_WEBHOOK_PREFIX + address, setting.model_dump())

    async def mail_setting(self) -> WebhookSettings:
        return WebhookSettings.model_validate(await self.kv.get_cached(MAIL_WEBHOOK_KEY, {}) or {})

    async def save_mail_setting(self, setting: WebhookSettings) -> None:
        validate(setting)
        await self.kv.set(MAIL_WEBHOOK_KEY, setting.model_dump())

    async def test(self, setting: WebhookSettings, mail: StoredMail) -> None:
        """One delivery, now, no retries; a failure is the caller's 400."""
        validate(setting)
        try:
            await self._deliver(setting, await self._variables(mail))
        except WebhookFailed as exc:
            raise ApiError(400, "Webhook test failed: {reason}", reason=str(exc)) from None

    async def test_address(self, address: str, setting: WebhookSettings, mail: StoredMail) -> None:
        await self._require_allowed(address)
        await self.test(setting, mail)

    async def _variables(self, mail: StoredMail) -> dict[str, str]:
        return await asyncio.to_thread(mail_variables, mail, self.settings.FRONTEND_URL)

    async def _deliver(self, setting: WebhookSettings, variables: dict[str, str]) -> None:
        method = setting.method.upper()
        body = render(setting.body or DEFAULT_BODY, variables)
        try:
            response = await self.http.request(
                method,
                setting.url,
                content=None if method == "GET" else body.encode("utf-8"),
                headers={"content-type": "application/json", **_headers(setting)},
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            raise WebhookFailed(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise WebhookFailed(f"{response.status_code} {response.text[:200]}")

    async def deliver_with_retries(
        self, setting: WebhookSettings, mail: StoredMail, variables: dict[str, str]
    ) -> bool:
        """Each attempt holds one delivery slot; the waits between attempts do not."""
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS)):
            await asyncio.sleep(delay)
            try:
                async with self._slots:
                    await self._deliver(setting, variables)
                return True
            except (WebhookFailed, ApiError) as exc:
                log.warning(
                    "webhook %s for mail %s failed (attempt %d): %s", setting.url, mail.id, attempt + 1, exc
                )
        return False

    async def fire(self, mail: StoredMail) -> None:
        """Every enabled webhook that concerns this mail: its address's, and the admin's."""
        if not self.settings.ENABLE_WEBHOOK:
            return
        settings: list[WebhookSettings] = []
        allow = await self.allow_list()
        if not allow.enableAllowList or mail.address in allow.allowList:
            stored = await self.kv.get_cached(ADDRESS_WEBHOOK_PREFIX + mail.address)
            if stored:
                settings.append(WebhookSettings.model_validate(stored))
        settings.append(await self.mail_setting())
        enabled = [setting for setting in settings if setting.enabled and setting.url]
        if not enabled:
            return
        # Parsing the mail and finding its code is most of a delivery's cost: once per mail,
        # for all its webhooks and every retry.
        variables = await self._variables(mail)
        await asyncio.gather(*(self.deliver_with_retries(setting, mail, variables) for setting in enabled))

    async def on_mail_stored(self, mail: StoredMail, report: MailStoredReport) -> None:
        await self.fire(mail)
