"""The HS256 JWTs of the API: address credentials (no expiry) and role tokens.

Only HS256 is accepted on decode, so `alg: none` and algorithm-confusion tokens are refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from tempmail.ttl_cache import TtlCache

# How long a verified credential (address or user JWT) is remembered. A client polls with the
# same one all day, and checking an HS256 signature with PyJWT costs more than the rest of the
# request's own work; the secret never changes while the process runs, so a verified token
# stays verified (until its `exp`, if it has one).
VERIFIED_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class AddressClaim:
    """Who an address credential speaks for."""

    address: str
    address_id: int


@dataclass(frozen=True, slots=True)
class RoleClaim:
    """A correctly signed role token: its role (None when it names none), and whether it is past
    its `exp` or has none (the reference refuses both as expired, apart from a bad signature)."""

    role: str | None
    expired: bool


class Tokens:
    def __init__(self, secret: str) -> None:
        self._secret = secret
        # token -> (payload, its `exp` or None), for tokens that verified.
        self._verified: TtlCache[str, tuple[dict[str, Any], float | None]] = TtlCache(VERIFIED_SECONDS)

    def sign(self, payload: dict[str, Any]) -> str:
        return jwt.encode(payload, self._secret, algorithm="HS256")

    def decode(self, token: str) -> dict[str, Any] | None:
        """The payload of a valid token (signature and `exp` checked), else None."""
        try:
            payload = jwt.decode(token, self._secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        return payload if isinstance(payload, dict) else None

    def address_jwt(self, address: str, address_id: int) -> str:
        return self.sign({"address": address, "address_id": address_id})

    def verified(self, token: str) -> dict[str, Any] | None:
        """`decode`, remembered: the payload of a token that verified is kept until its `exp`
        (the payload is shared between calls; callers copy it before changing it)."""
        hit = self._verified.get(token)
        if isinstance(hit, tuple):
            known, expires = hit
            if expires is None or expires > time.time():
                return known  # type: ignore[no-any-return]
            self._verified.pop(token)
        payload = self.decode(token)
        if payload is not None:
            exp = payload.get("exp")
            self._verified.put(token, (payload, float(exp) if isinstance(exp, int | float) else None))
        return payload

    def read_address(self, token: str) -> AddressClaim | None:
        payload = self.verified(token) if token else None
        if payload is None:
            return None
        name, address_id = payload.get("address"), payload.get("address_id")
        if not isinstance(name, str) or isinstance(address_id, bool) or not isinstance(address_id, int):
            return None
        return AddressClaim(name, address_id)

    def read_user(self, token: str) -> dict[str, Any] | None:
        """The payload of a valid, unexpired user JWT (`x-user-token`), else None."""
        payload = self.verified(token) if token else None
        if payload is None or "exp" not in payload:
            return None
        user_id = payload.get("user_id")
        if not isinstance(payload.get("user_email"), str) or not isinstance(user_id, int):
            return None
        return payload

    def read_role(self, token: str) -> str | None:
        """The `user_role` of a role token (`x-user-access-token`), if valid and unexpired."""
        payload = self.decode(token)
        if payload is None or "exp" not in payload:
            return None
        role = payload.get("user_role")
        return role if isinstance(role, str) and role else None

    def read_role_claim(self, token: str) -> RoleClaim | None:
        """A role token's claim if its signature is right, expired or not (None otherwise): the
        admin check answers an expired one and a wrong role with texts of their own."""
        try:
            payload = jwt.decode(token, self._secret, algorithms=["HS256"], options={"verify_exp": False})
        except jwt.PyJWTError:
            return None
        if not isinstance(payload, dict):
            return None
        exp = payload.get("exp")
        expired = isinstance(exp, bool) or not isinstance(exp, int | float) or exp <= time.time()
        role = payload.get("user_role")
        return RoleClaim(role if isinstance(role, str) and role else None, expired)
