"""Login through an OAuth2 provider the admin configured (authorization-code flow, via authlib).

The browser goes to the provider with `login_url`, comes back to the frontend with a code, and
the frontend hands that code to `callback`: we exchange it, read the user's e-mail from the
provider's user-info document, and log that person in (creating the account on first visit).
The token and user-info URLs are fetched through the outbound guard (security/outbound.py), like
webhooks: only public addresses unless OUTBOUND_ALLOW_NETWORKS admits more.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.oauth2.client import OAuth2Client
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from pydantic import BaseModel, ConfigDict, Field

from tempmail.accounts.users import DOMAIN_NOT_ALLOWED, UserService, normalize_email
from tempmail.config import AllowedNetwork
from tempmail.db.kv import SettingsStore
from tempmail.errors import ApiError
from tempmail.security.outbound import GuardedTransport

log = logging.getLogger(__name__)

CLIENT_ID_NOT_SET = "Oauth2 client ID is not set, please contact the administrator"
CLIENT_ID_OR_CODE_MISSING = "Oauth2 client ID or code is missing"
TOKEN_FAILED = "Failed to get access token from Oauth2 provider"
USER_INFO_FAILED = "Failed to get user info from Oauth2 provider"
EMAIL_FAILED = "Failed to get user email from Oauth2 provider"

OAUTH2_SETTINGS_KEY = "user_oauth2_settings"
PROVIDER_TIMEOUT_SECONDS = 10.0


class OAuth2ProviderSettings(BaseModel):
    """One provider, with the field names of the reference's admin page."""

    model_config = ConfigDict(extra="allow")

    name: str
    clientID: str
    clientSecret: str = ""
    authorizationURL: str
    accessTokenURL: str
    accessTokenFormat: str = "json"
    userInfoURL: str
    userEmailKey: str = "email"
    redirectURL: str
    logoutURL: str = ""
    scope: str = ""
    enableEmailFormat: bool = False
    userEmailFormat: str = ""
    userEmailReplace: str = ""
    enableMailAllowList: bool = False
    mailAllowList: list[str] = Field(default_factory=list)
    icon: str = ""


FORM = "application/x-www-form-urlencoded"


def _form_token_response(response: httpx.Response) -> httpx.Response:
    """Providers like GitHub answer the token request form-encoded; authlib wants JSON."""
    if "json" in response.headers.get("content-type", ""):
        return response
    return httpx.Response(response.status_code, json=dict(parse_qsl(response.text)), request=response.request)


def dig(document: Any, dotted: str) -> Any:
    """`a.b.0.c` into nested JSON (objects by key, arrays by index)."""
    for part in dotted.split("."):
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    return document


def reformat_email(provider: OAuth2ProviderSettings, email: str) -> str:
    """`userEmailFormat` (a regex) and `userEmailReplace` (`$1`-style template), as the reference."""
    if not provider.enableEmailFormat or not provider.userEmailFormat:
        return email
    try:
        match = re.search(provider.userEmailFormat, email)
    except (re.error, OverflowError, RecursionError):
        return email
    if match is None:
        return email
    groups = [match.group(0), *(group or "" for group in match.groups())]

    def group(reference: re.Match[str]) -> str:
        index = int(reference[1])
        return groups[index] if index < len(groups) else ""

    return re.sub(r"\$(\d)", group, provider.userEmailReplace)


class OAuth2Service:
    def __init__(self, kv: SettingsStore, users: UserService, allowed: tuple[AllowedNetwork, ...]) -> None:
        self.kv = kv
        self.users = users
        self.allowed = allowed

    async def providers(self) -> list[OAuth2ProviderSettings]:
        stored = await self.kv.get_cached(OAUTH2_SETTINGS_KEY, []) or []
        return [OAuth2ProviderSettings.model_validate(item) for item in stored]

    async def save(self, providers: list[OAuth2ProviderSettings]) -> None:
        await self.kv.set(OAUTH2_SETTINGS_KEY, [provider.model_dump() for provider in providers])

    async def _provider(self, client_id: str | None) -> OAuth2ProviderSettings:
        provider = next((p for p in await self.providers() if client_id and p.clientID == client_id), None)
        if provider is None:
            raise ApiError(400, CLIENT_ID_NOT_SET)
        return provider

    @staticmethod
    def _protocol(provider: OAuth2ProviderSettings) -> OAuth2Client:
        """authlib's client-agnostic OAuth2 client: the authorization URL, the client's
        credentials in the token request (client_secret_post), the token response's checks and
        the bearer header. The requests themselves go through our httpx client and its outbound
        guard: authlib's httpx integration is deprecated (it moves to httpx2, which the guard is
        not written for) and warned on every start."""
        return OAuth2Client(
            None,
            client_id=provider.clientID,
            client_secret=provider.clientSecret,
            token_endpoint_auth_method="client_secret_post",
            scope=provider.scope or None,
            redirect_uri=provider.redirectURL,
        )

    @staticmethod
    async def _exchange(
        client: httpx.AsyncClient, oauth: OAuth2Client, provider: OAuth2ProviderSettings, code: str
    ) -> tuple[str, dict[str, str]]:
        """The code for a token; returns the user-info request's URL and headers, signed with it."""
        body = prepare_token_request("authorization_code", code=code, redirect_uri=provider.redirectURL)
        url, headers, body = oauth.client_auth("client_secret_post").prepare(
            "POST", provider.accessTokenURL, {"Accept": "application/json", "Content-Type": FORM}, body
        )
        response = await client.post(url, headers=headers, content=body)
        if provider.accessTokenFormat != "json":
            response = _form_token_response(response)
        oauth.parse_response_token(response)
        url, headers, _ = oauth.token_auth.prepare(provider.userInfoURL, {"Accept": "application/json"}, "")
        return str(url), dict(headers)

    async def login_url(self, client_id: str | None, state: str | None) -> str:
        provider = await self._provider(client_id)
        url, _ = self._protocol(provider).create_authorization_url(
            provider.authorizationURL, state=state or None
        )
        return str(url)

    async def callback(self, client_id: str | None, code: str | None) -> str:
        """Exchange the code, find the e-mail, and answer a user JWT. Failures answer the
        reference's texts, naming the step that failed (the detail goes to the log)."""
        if not client_id or not code:
            raise ApiError(400, CLIENT_ID_OR_CODE_MISSING)
        provider = await self._provider(client_id)
        oauth = self._protocol(provider)
        # A transport of its own: closing the client (after each login) closes it.
        transport = GuardedTransport(self.allowed)
        async with httpx.AsyncClient(transport=transport, timeout=PROVIDER_TIMEOUT_SECONDS) as client:
            step = TOKEN_FAILED
            try:
                url, headers = await self._exchange(client, oauth, provider, code)
                step = USER_INFO_FAILED
                response = await client.get(url, headers=headers)
                response.raise_for_status()
                info = response.json()
            except (AuthlibBaseError, httpx.HTTPError, ValueError, KeyError) as exc:
                log.warning("OAuth2 login through %s failed (%s): %s", provider.name, step, exc)
                raise ApiError(400, step) from None
        found = dig(info, provider.userEmailKey)
        if not isinstance(found, str) or not found:
            raise ApiError(400, EMAIL_FAILED)
        email = normalize_email(reformat_email(provider, found))
        if provider.enableMailAllowList and email.rpartition("@")[2] not in provider.mailAllowList:
            raise ApiError(400, DOMAIN_NOT_ALLOWED, domains=provider.mailAllowList)
        return await self.users.login_external(email)
