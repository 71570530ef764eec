"""Webhooks (API.md §8, COMPAT §10): tell another service about each stored mail.

Settings live in the settings table (per address, the admin's allow list, and one webhook for
every mail) and are stored as given, as the reference does; a setting that cannot be delivered
fails at delivery (kept as the delivery's last error) or in the test route (400). Delivery runs
after the commit, in the background, through the outbox (`tempmail.inbound.outbox`): a `webhook`
row is written with every mail while ENABLE_WEBHOOK is on, delivered with a timeout, and retried
with back-off from the database, by any node: a slow or dead receiver never slows or loses a
mail, and a crash does not lose a delivery. A request of a stored mail carries
`X-Tempmail-Delivery: <delivery id>` (IDEMPOTENCY_HEADER), the same on every attempt of that
delivery: a worker that dies after the receiver took it but before recording so leaves it to be
sent again, and the key is how the receiver drops the repeat. A retry sends the mail to each of
its webhooks again (the admin's and the address's, with the same key), not only to the one that
failed. The client is the outbound guard's (security/outbound.py): a webhook reaches only
public addresses unless OUTBOUND_ALLOW_NETWORKS admits more, and redirects are not followed (a
3xx is a failed delivery). A failure is told in our own words — the status code and its
standard phrase, or the kind of error — never in the receiver's, so a webhook cannot be used to
read what some service answers. The extraction result (`aiExtract*`) is the one the extraction
subscriber, which runs before, stored in the mail's metadata.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from email.utils import parseaddr

import httpx
from pydantic import BaseModel, Field

from tempmail.config import Settings
from tempmail.db.kv import SettingsStore
from tempmail.errors import ApiError
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.outbox import DeliveryFailed
from tempmail.security.outbound import TargetRefused

log = logging.getLogger(__name__)

ADDRESS_WEBHOOK_PREFIX = "webhook:"
ALLOW_LIST_KEY = "webhook_settings"
MAIL_WEBHOOK_KEY = "mail_webhook_settings"
TIMEOUT_SECONDS = 10.0
IDEMPOTENCY_HEADER = "X-Tempmail-Delivery"
NOT_ENABLED = "Webhook is not enabled, please contact the administrator"
NOT_ALLOWED = "Webhook settings is not allowed for this user"
SEND_ERROR = "send webhook error: {reason}"
DEFAULT_HEADERS = json.dumps({"Content-Type": "application/json"}, indent=2)
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
        "aiExtractResultText": "${aiExtractResultText}",
    },
    indent=2,
)
# The values a test delivery sends when there is no stored mail to take them from.
TEST_VALUES = {
    "id": "0",
    "url": "",
    "from": "test@test.com",
    "subject": "test subject",
    "raw": "test raw email",
    "parsedText": "test parsed text",
    "parsedHtml": "test parsed html",
    "aiExtractType": "",
    "aiExtractResult": "",
    "aiExtractResultText": "",
}
ADMIN_TEST_TO = "admin@test.com"
_VARIABLE = re.compile(r"\$\{(\w+)\}")


class WebhookSettings(BaseModel):
    enabled: bool = False
    url: str = ""
    method: str = "POST"
    headers: str = DEFAULT_HEADERS
    body: str = DEFAULT_BODY


class AllowList(BaseModel):
    enableAllowList: bool = False
    allowList: list[str] = Field(default_factory=list)


class WebhookFailed(Exception):
    """A delivery did not get a 2xx answer (the message is `<status> <standard phrase>`, or the
    name of the error, never text of the receiver's)."""


class Undeliverable(WebhookFailed):
    """The setting itself cannot be delivered (headers not a JSON object, a URL or method httpx
    refuses, a target the outbound guard refuses): trying again would only fail again."""


def sender_of(header: str, fallback: str) -> str:
    """The parsed From as `"<name> <<address>>"` (trimmed), else the envelope sender."""
    name, address = parseaddr(header)
    return f"{name} <{address}>".strip() if address else fallback


async def mail_variables(mail: StoredMail, frontend_url: str) -> dict[str, str]:
    """The template variables of one mail."""
    parsed = await mail.parsed()
    found = mail.extracted or {}
    return {
        "id": str(mail.id),
        "url": f"{frontend_url}?mail_id={mail.id}" if frontend_url else "",
        "from": sender_of(parsed.sender, mail.mail_from),
        "to": mail.address,
        "subject": parsed.subject,
        "raw": mail.raw.decode("utf-8", errors="replace"),
        "parsedText": parsed.text,
        "parsedHtml": parsed.html,
        "aiExtractType": found.get("type", ""),
        "aiExtractResult": found.get("result", ""),
        "aiExtractResultText": found.get("result_text", ""),
    }


def render(template: str, variables: dict[str, str]) -> str:
    """Replace `${name}` by the JSON-string-escaped value, so a JSON template stays valid JSON."""

    def value(match: re.Match[str]) -> str:
        if match[1] not in variables:
            return match[0]
        return json.dumps(variables[match[1]], ensure_ascii=False)[1:-1]

    return _VARIABLE.sub(value, template)


def _headers(setting: WebhookSettings) -> dict[str, str]:
    """`headers` is JSON text of an object; anything else cannot be delivered."""
    try:
        decoded = json.loads(setting.headers or "{}")
    except json.JSONDecodeError as exc:
        raise Undeliverable(f"headers are not JSON ({exc.msg})") from None
    if not isinstance(decoded, dict):
        raise Undeliverable("headers are not a JSON object")
    return {str(key): str(value) for key, value in decoded.items()}


class WebhookService:
    def __init__(self, settings: Settings, kv: SettingsStore, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.kv = kv
        self.http = http

    def require_enabled(self) -> None:
        """Every webhook route (`/api/webhook*`, `/admin/webhook*`, `/admin/mail_webhook*`)
        answers 403 unless ENABLE_WEBHOOK."""
        if not self.settings.ENABLE_WEBHOOK:
            raise ApiError(403, NOT_ENABLED)

    async def allow_list(self) -> AllowList:
        return AllowList.model_validate(await self.kv.get_cached(ALLOW_LIST_KEY, {}) or {})

    async def save_allow_list(self, allow: AllowList) -> None:
        await self.kv.set(ALLOW_LIST_KEY, allow.model_dump())

    async def _require_allowed(self, address: str) -> None:
        self.require_enabled()
        allow = await self.allow_list()
        if allow.enableAllowList and address not in allow.allowList:
            raise ApiError(403, NOT_ALLOWED)

    async def address_setting(self, address: str) -> WebhookSettings:
        await self._require_allowed(address)
        return WebhookSettings.model_validate(await self.kv.get(ADDRESS_WEBHOOK_PREFIX + address, {}) or {})

    async def save_address_setting(self, address: str, setting: WebhookSettings) -> None:
        await self._require_allowed(address)
        await self.kv.set(ADDRESS_WEBHOOK_PREFIX + address, setting.model_dump())

    async def mail_setting(self) -> WebhookSettings:
        return WebhookSettings.model_validate(await self.kv.get_cached(MAIL_WEBHOOK_KEY, {}) or {})

    async def save_mail_setting(self, setting: WebhookSettings) -> None:
        await self.kv.set(MAIL_WEBHOOK_KEY, setting.model_dump())

    async def _test(self, setting: WebhookSettings, mail: StoredMail | None, to: str) -> None:
        """One delivery, now, no retries, of a stored mail (or the placeholder values) to `to`;
        a failure is the caller's 400."""
        if mail is None:
            variables = {**TEST_VALUES, "to": to}
        else:
            variables = {**await mail_variables(mail, self.settings.FRONTEND_URL), "to": to}
        try:
            await self._deliver(setting, variables)
        except WebhookFailed as exc:
            raise ApiError(400, SEND_ERROR, reason=str(exc)) from None

    async def test_address(self, address: str, setting: WebhookSettings, mail: StoredMail | None) -> None:
        """`POST /api/webhook/test`: a random mail of the address, sent to the address."""
        await self._require_allowed(address)
        await self._test(setting, mail, address)

    async def test_mail_webhook(self, setting: WebhookSettings, mail: StoredMail | None) -> None:
        """`POST /admin/mail_webhook/test`: a random mail of any address, `to` the admin's."""
        await self._test(setting, mail, ADMIN_TEST_TO)

    async def _deliver(
        self, setting: WebhookSettings, variables: dict[str, str], delivery_id: int | None = None
    ) -> None:
        method = setting.method.upper()
        body = render(setting.body, variables)
        headers = _headers(setting)
        if delivery_id is not None:
            headers[IDEMPOTENCY_HEADER] = str(delivery_id)
        try:
            response = await self.http.request(
                method,
                setting.url,
                content=None if method == "GET" else body.encode("utf-8"),
                headers=headers,
                timeout=TIMEOUT_SECONDS,
            )
        except TargetRefused as exc:
            raise Undeliverable(str(exc)) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, ValueError) as exc:
            # A URL, method or header httpx cannot use, as stored (settings are stored as given).
            raise Undeliverable(f"{type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            # Only the kind: the text of a protocol error can quote what the other end sent.
            raise WebhookFailed(type(exc).__name__) from exc
        if not response.is_success:
            # The standard phrase, not the receiver's own status line.
            phrase = httpx.codes.get_reason_phrase(response.status_code)
            raise WebhookFailed(f"{response.status_code} {phrase}".strip())

    async def switched_on(self) -> bool:
        """Whether received mail gets a `webhook` row (ENABLE_WEBHOOK)."""
        return self.settings.ENABLE_WEBHOOK

    async def _targets(self, mail: StoredMail) -> list[tuple[str, WebhookSettings]]:
        """Every enabled webhook that concerns this mail: the admin's, and its address's."""
        settings = [("mail webhook", await self.mail_setting())]
        allow = await self.allow_list()
        if not allow.enableAllowList or mail.address in allow.allowList:
            stored = await self.kv.get_cached(ADDRESS_WEBHOOK_PREFIX + mail.address)
            if isinstance(stored, dict):
                settings.append(("address webhook", WebhookSettings.model_validate(stored)))
        return [(name, setting) for name, setting in settings if setting.enabled and setting.url]

    async def deliver(self, mail: StoredMail, delivery_id: int, report: MailStoredReport) -> bool:
        """The outbox's `webhook`: one attempt at each webhook of the mail, at once; False when
        it has none. DeliveryFailed names each that failed (final when every failure is of a
        setting that cannot be delivered)."""
        if not self.settings.ENABLE_WEBHOOK:
            return False
        targets = await self._targets(mail)
        if not targets:
            return False
        variables = await mail_variables(mail, self.settings.FRONTEND_URL)
        outcomes = await asyncio.gather(
            *(self._deliver(setting, variables, delivery_id) for _, setting in targets),
            return_exceptions=True,
        )
        failures: list[tuple[str, WebhookFailed]] = []
        for (name, _), outcome in zip(targets, outcomes, strict=True):
            if isinstance(outcome, WebhookFailed):
                failures.append((name, outcome))
            elif isinstance(outcome, BaseException):
                raise outcome
        if failures:
            reason = "; ".join(f"{name}: {exc}" for name, exc in failures)
            raise DeliveryFailed(reason, final=all(isinstance(exc, Undeliverable) for _, exc in failures))
        return True
