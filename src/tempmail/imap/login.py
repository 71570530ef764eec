"""Who logs in over IMAP: the address as the user name, its JWT or its password as the
password (`MailClientLogins`, shared with SMTP submission: the same delay after a wrong one, the
same lockout of an IP after ten), by LOGIN or AUTHENTICATE PLAIN (or LOGIN).

pysasl keeps the secret of the credentials it parsed private and only compares it with an
identity's; `_Catch` is such an identity that keeps what it is shown, which is how the clear
secret reaches our check without touching pysasl's internals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Set
from contextlib import asynccontextmanager
from datetime import datetime

from pymap.context import socket_info
from pymap.exceptions import AuthorizationFailure, InvalidAuth, NotAllowedError
from pymap.interfaces.login import IdentityInterface, LoginInterface
from pymap.interfaces.token import TokenCredentials, TokensInterface
from pymap.user import UserMetadata
from pysasl.creds.server import ServerCredentials

from tempmail.accounts.mail_clients import LockedOut
from tempmail.imap.config import ImapConfig
from tempmail.imap.session import Session
from tempmail.security.tokens import AddressClaim
from tempmail.services import Services


class _Catch:
    """A pysasl identity that accepts any secret and keeps it (see the module's docstring)."""

    def __init__(self, authcid: str) -> None:
        self.authcid = authcid
        self.secret: str | None = None

    def compare_authcid(self, authcid: str) -> bool:
        return True

    def compare_secret(self, secret: str) -> bool:
        self.secret = secret
        return True

    def get_clear_secret(self) -> str | None:
        return None


def clear_secret(credentials: ServerCredentials) -> str | None:
    catch = _Catch(credentials.authcid)
    credentials.verify(catch)
    return catch.secret


class _NoTokens(TokensInterface):
    """pymap's own bearer tokens are not offered: the address JWT is the token here."""

    def get_login_token(
        self,
        identifier: str,
        authcid: str,
        key: bytes,
        *,
        authzid: str | None = None,
        location: str | None = None,
        expiration: datetime | None = None,
    ) -> str | None:
        return None

    def get_admin_token(
        self,
        admin_key: bytes | None,
        *,
        authzid: str | None = None,
        location: str | None = None,
        expiration: datetime | None = None,
    ) -> str | None:
        return None

    def parse(self, authzid: str, token: str, *, admin_keys: Set[bytes] = frozenset()) -> TokenCredentials:
        raise ValueError("tokens are not supported")


class Login(LoginInterface):
    def __init__(self, services: Services, config: ImapConfig) -> None:
        self.services = services
        self.config = config
        self._tokens = _NoTokens()

    @property
    def tokens(self) -> TokensInterface:
        return self._tokens

    async def authenticate(self, credentials: ServerCredentials) -> Identity:
        secret = clear_secret(credentials)
        ip = socket_info.get().peername_ip
        try:
            claim = await self.services.mail_logins.login(
                credentials.authcid, secret or "", None if ip is None else str(ip)
            )
        except LockedOut as exc:
            raise InvalidAuth(str(exc)) from None
        if claim is None:
            raise InvalidAuth()
        return Identity(claim, self.services, self.config)

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> IdentityInterface:
        """An address acts only as itself (AUTHENTICATE PLAIN may name another identity)."""
        if authzid.strip().lower() != authenticated.name:
            raise AuthorizationFailure()
        return authenticated


class Identity(IdentityInterface):
    def __init__(self, claim: AddressClaim, services: Services, config: ImapConfig) -> None:
        self.claim = claim
        self.services = services
        self.config = config

    @property
    def name(self) -> str:
        return self.claim.address

    @property
    def roles(self) -> frozenset[str]:
        return frozenset()

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[Session]:
        session = Session(self.claim, self.services, self.config)
        try:
            yield session
        finally:
            session.end()

    async def new_token(self, *, expiration: datetime | None = None) -> str | None:
        return None

    async def get(self) -> UserMetadata:
        raise NotAllowedError("No user metadata here.")

    async def set(self, metadata: UserMetadata) -> int | None:
        raise NotAllowedError("No user metadata here.")

    async def delete(self) -> None:
        raise NotAllowedError("No user metadata here.")
