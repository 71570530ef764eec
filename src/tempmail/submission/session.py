"""The submission protocol: the inbound listener's aiosmtpd protocol with an asynchronous login.

aiosmtpd decodes AUTH PLAIN and LOGIN (challenges, base64) but asks its authenticator
synchronously, and ours reads the database and makes a wrong login wait: so its authenticator
only hands the decoded credentials back (as a refusal, should anything else ever call it), and
the two mechanisms, overridden here, await the real check (`MailClientLogins`, the IMAP
server's). The session's `auth_data` is then the AddressClaim of the address logged in.
"""

from __future__ import annotations

from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

from tempmail.accounts.mail_clients import LockedOut, MailClientLogins
from tempmail.inbound.smtp import TrackedSMTP
from tempmail.submission import replies


class SubmissionSMTP(TrackedSMTP):
    """One client connection. `implicit_tls`: the listener wraps it in TLS from the first byte,
    which aiosmtpd (which knows only STARTTLS) must be told counts as encrypted."""

    def __init__(
        self, handler: Any, *, logins: MailClientLogins, implicit_tls: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(handler, **kwargs)
        self._logins = logins
        if implicit_tls:
            self._auth_require_tls = False

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        # Not a decision: the credentials, for `_check` (see the module's docstring).
        return AuthResult(success=False, handled=False, auth_data=auth_data)

    async def auth_PLAIN(self, server: Any, args: list[str]) -> AuthResult:
        return await self._check(await super().auth_PLAIN(server, args))

    async def auth_LOGIN(self, server: Any, args: list[str]) -> AuthResult:
        return await self._check(await super().auth_LOGIN(server, args))

    async def _check(self, decoded: AuthResult) -> AuthResult:
        credentials = decoded.auth_data
        if not isinstance(credentials, LoginPassword):
            # aiosmtpd has answered already (bad base64, an aborted exchange), or will say 535.
            return decoded
        user = credentials.login.decode("utf-8", "replace")
        secret = credentials.password.decode("utf-8", "replace")
        assert self.session is not None
        peer = self.session.peer
        ip = str(peer[0]) if isinstance(peer, tuple) else None
        try:
            claim = await self._logins.login(user, secret, ip)
        except LockedOut as exc:
            return AuthResult(success=False, handled=False, message=replies.locked_out(str(exc)))
        if claim is None:
            return AuthResult(success=False, handled=False, message=replies.AUTH_INVALID)
        return AuthResult(success=True, auth_data=claim)
