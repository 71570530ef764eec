"""Password storage: argon2 over the SHA-256 hex the browser sends.

The reference stores the client's SHA-256 hex as is, so a leaked database is a list of working
login tokens. We store argon2(hex) instead; rows carried over from the reference (bare hex)
still verify, and the caller re-hashes them on the next successful login.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_ALPHABET = string.ascii_letters + string.digits


def sha256_hex(plain: str) -> str:
    """What the browser sends for a typed password."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def generate_plain(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


async def hash_password(client_hash: str) -> str:
    """argon2 is deliberately slow; run it off the event loop."""
    return await asyncio.to_thread(_hasher.hash, client_hash)


async def verify_password(stored: str | None, client_hash: str) -> bool:
    if not stored or not client_hash:
        return False
    if not stored.startswith("$argon2"):
        return hmac.compare_digest(stored.encode(), client_hash.encode())
    try:
        return await asyncio.to_thread(_hasher.verify, stored, client_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return not stored.startswith("$argon2") or _hasher.check_needs_rehash(stored)


def matches_any(candidate: str | None, secrets: list[str]) -> bool:
    """Constant-time membership, so response timing does not leak a password's prefix."""
    if not candidate:
        return False
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(candidate.encode(), secret.encode())
    return found
