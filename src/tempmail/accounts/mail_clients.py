"""Who a mail client is: the IMAP server's and the submission server's login, one check for both.

Thunderbird, a phone's mail app or a script with `imaplib` logs in with the address as the user
name and, as the password, either the address's JWT (what the web UI shows as its credential)
or the address's password (with ENABLE_ADDRESS_PASSWORD). The web UI sends that password as its
SHA-256 hex, which is what the database's argon2 hash is of; a mail client sends what its user
typed, so both the text and its SHA-256 hex are tried.

A wrong login costs its client FAILURE_DELAY_SECONDS before the refusal, and LOCKOUT_FAILURES of
them from one IP within LOCKOUT_WINDOW_SECONDS lock that IP out (every login refused, the right
one too) for a while that doubles while it keeps trying (see `tempmail.security.rate_limits`).
"""

from __future__ import annotations

import asyncio
import logging

from tempmail.config import Settings
from tempmail.db.addresses import AddressStore
from tempmail.security.passwords import sha256_hex, verify_password
from tempmail.security.rate_limits import RateLimiter
from tempmail.security.tokens import AddressClaim, Tokens

log = logging.getLogger(__name__)

FAILURE_DELAY_SECONDS = 1.0
LOCKOUT_FAILURES = 10
LOCKOUT_WINDOW_SECONDS = 300.0
LOCKOUT_MAX_SECONDS = 3600.0


class LockedOut(Exception):
    """Too many wrong logins from this IP: refused without looking, for `retry_after` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed logins; retry after {int(retry_after) + 1} seconds")
        self.retry_after = retry_after


class MailClientLogins:
    def __init__(
        self,
        settings: Settings,
        addresses: AddressStore,
        tokens: Tokens,
        failure_delay: float = FAILURE_DELAY_SECONDS,
    ) -> None:
        self.settings = settings
        self.addresses = addresses
        self.tokens = tokens
        self.failure_delay = failure_delay
        # A limiter refuses the event that goes over its limit: the tenth failure locks out.
        self.failures = RateLimiter(LOCKOUT_FAILURES - 1, LOCKOUT_WINDOW_SECONDS, LOCKOUT_MAX_SECONDS)

    async def login(self, user: str, secret: str, ip: str | None) -> AddressClaim | None:
        """The address `user` names when `secret` is its JWT or its password; None (after the
        delay) when not. Raises LockedOut for an IP that failed too often."""
        key = ip or "?"
        locked = self.failures.refused(key)
        if locked is not None:
            raise LockedOut(locked)
        claim = await self._check(user.strip().lower(), secret)
        if claim is not None:
            return claim
        refusal = self.failures.record(key)
        if refusal is not None and refusal.started:
            log.warning("mail client logins from %s locked out for %.0f s", key, refusal.retry_after)
        await asyncio.sleep(self.failure_delay)
        return None

    async def _check(self, name: str, secret: str) -> AddressClaim | None:
        if not name or not secret:
            return None
        claim = self.tokens.read_address(secret)
        if claim is not None:
            if claim.address == name and await self.addresses.is_live(claim.address_id, claim.address):
                return claim
            return None
        if not self.settings.ENABLE_ADDRESS_PASSWORD:
            return None
        row = await self.addresses.get_by_name(name)
        if row is None or not row.password:
            return None
        for candidate in (secret, sha256_hex(secret)):
            if await verify_password(row.password, candidate):
                return AddressClaim(row.name, row.id)
        return None
