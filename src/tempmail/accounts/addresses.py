"""Addresses: creating them (the naming and domain rules of API.md §4 and COMPAT §11.5, in the
reference's order), their passwords, their activity, finding and deleting them."""

from __future__ import annotations

import random
import re
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tempmail.accounts.settings import AccountSettingsService
from tempmail.accounts.users import ADDRESS_NOT_FOUND, INVALID_LOGIN, NEW_PASSWORD_REQUIRED
from tempmail.config import Settings, UserRole

# ADMIN_SORT_KEYS: what the admin's list sorts on, for the routes (which see no store).
from tempmail.db.addresses import ADMIN_SORT_KEYS as ADMIN_SORT_KEYS
from tempmail.db.addresses import AddressExists, AddressStore
from tempmail.db.paging import Page
from tempmail.errors import ApiError
from tempmail.security.passwords import (
    generate_plain,
    hash_password,
    needs_rehash,
    sha256_hex,
    verify_password,
)
from tempmail.security.tokens import Tokens

# RFC 5321 limits, applied even to the admin so a name always fits the column and the wire.
MAX_LOCAL_PART = 64
RANDOM_NAME_LENGTH = 10
# The admin's names are held to the reference's fixed bounds, not to MIN/MAX_ADDRESS_LEN.
ADMIN_MIN_LEN, ADMIN_MAX_LEN = 1, 30
# Tries of a fresh random subdomain label when the address it gives is taken.
RANDOM_SUBDOMAIN_ATTEMPTS = 5
MAX_DOMAIN_LENGTH = 253
_NAME_ALPHABET = string.ascii_lowercase + string.digits
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

FAILED = "Failed to create address: {inner}"
INVALID_DOMAIN = "Invalid domain"
ANONYMOUS_DISABLED = "New address for anonymous user is disabled, please contact the administrator"
CREATE_DISABLED = "New address is disabled, please contact the administrator"
BLOCKED = "Name[{name}]is blocked"
DOMAINS_NOT_SET = "Domains are not set, please contact the administrator"
LOGIN_DISABLED = "Password login is disabled"
LOGIN_REQUIRED = "Email and password are required"
CHANGE_DISABLED = "Password change is disabled"
NAME_REQUIRED = "Required field is missing"
NAME_TOO_SHORT = "Name is too short (min {low})"
NAME_TOO_LONG = "Name is too long (max {high})"
NO_RANDOM_SUBDOMAIN = "Random subdomain is not enabled for this domain"
ADDRESS_EXISTS = "Address already exists"


@dataclass(frozen=True, slots=True)
class NewAddress:
    """What creating an address answers: `{jwt, address, password, address_id}`."""

    jwt: str
    address: str
    password: str | None
    address_id: int

    def as_json(self) -> dict[str, Any]:
        return {
            "jwt": self.jwt,
            "address": self.address,
            "password": self.password,
            "address_id": self.address_id,
        }


def _random_label(length: int) -> str:
    return "".join(secrets.choice(_NAME_ALPHABET) for _ in range(length))


def _failed(inner: str) -> ApiError:
    """Every refusal of the creation itself, as the reference words it: `Failed to create
    address: <inner>` (the inner text translated on its own)."""
    return ApiError(400, FAILED, inner=inner)


def _valid_domain(domain: str) -> bool:
    """Syntax of a domain the caller typed: `[a-z0-9]` labels with inner `-`, each at most 63,
    at most 253 in all."""
    return len(domain) <= MAX_DOMAIN_LENGTH and all(_LABEL.fullmatch(label) for label in domain.split("."))


class AddressService:
    def __init__(
        self, settings: Settings, store: AddressStore, accounts: AccountSettingsService, tokens: Tokens
    ) -> None:
        self.settings = settings
        self.store = store
        self.accounts = accounts
        self.tokens = tokens
        self._strip = re.compile(settings.address_regex)
        self._check = re.compile(settings.ADDRESS_CHECK_REGEX) if settings.ADDRESS_CHECK_REGEX else None

    async def create_public(
        self,
        name: str | None,
        domain: str | None,
        random_subdomain: bool,
        source_meta: str,
        logged_in: bool,
        role: UserRole | None = None,
        check_room: Callable[[], Awaitable[None]] | None = None,
    ) -> NewAddress:
        """`POST /api/new_address`: every limit applies; the role's domains and prefix when given.

        `check_room` (a logged-in creation's address-count limit) runs after the two switches
        and before the name is looked at, where the reference checks it.
        """
        cfg = self.settings
        if cfg.DISABLE_ANONYMOUS_USER_CREATE_EMAIL and not logged_in:
            raise ApiError(403, ANONYMOUS_DISABLED)
        if not cfg.ENABLE_USER_CREATE_EMAIL:
            raise ApiError(403, CREATE_DISABLED)
        if check_room is not None:
            await check_room()
        return await self.create_checked(name, domain, source_meta, random_subdomain, role)

    async def create_checked(
        self,
        name: str | None,
        domain: str | None,
        source_meta: str,
        random_subdomain: bool = False,
        role: UserRole | None = None,
    ) -> NewAddress:
        """Every rule of a public creation on the name and domain, without its two switches:
        the Telegram bot creates addresses whenever the admin runs it, as the reference's does."""
        cfg = self.settings
        if not name or cfg.DISABLE_CUSTOM_ADDRESS_NAME:
            name = self._random_name()
        local = self._strip.sub("", name.strip())
        await self._check_block_list(local)
        if self._check is not None and not self._check.search(local):
            raise _failed(f"Name not match regex: /{cfg.ADDRESS_CHECK_REGEX}/")
        self._check_length(local, max(cfg.MIN_ADDRESS_LEN, 1), max(cfg.MAX_ADDRESS_LEN, 1))
        prefixed = cfg.prefix_for(role) + local
        return await self._create(prefixed, domain, cfg.domains_for(role), random_subdomain, source_meta)

    async def create_admin(
        self, name: str, domain: str | None, enable_prefix: bool, random_subdomain: bool
    ) -> NewAddress:
        """`POST /admin/new_address`: no block list or check regex, the fixed bounds 1..30, and
        any configured domain."""
        if not name:
            raise ApiError(400, NAME_REQUIRED)

        local = self._strip.sub("", name.strip())
        self._check_length(local, ADMIN_MIN_LEN, ADMIN_MAX_LEN)
        prefix = self.settings.address_prefix if enable_prefix else ""
        return await self._create(prefix + local, domain, self.settings.DOMAINS, random_subdomain, "admin")

    # --- existing addresses ------------------------------------------------------------------

    async def is_live(self, address_id: int, name: str) -> bool:
        """The address a credential names still exists (under the same name)."""
        return await self.store.is_live(address_id, name)

    async def touch(self, address_id: int) -> None:
        """Record activity (the inactive-address cleanup goes by it)."""
        await self.store.touch(address_id)

    async def name_of(self, address_id: int) -> str:
        row = await self.store.get(address_id)
        if row is None:
            raise ApiError(404, ADDRESS_NOT_FOUND)
        return str(row.name)

    async def page(self, limit: int, offset: int, query: str, sort_by: str, ascending: bool) -> Page[Any]:
        """The admin's list: a name substring search, sorted on any of ADMIN_SORT_KEYS (by id
        otherwise)."""
        return await self.store.page(limit, offset, query.strip().lower(), sort_by, ascending)

    async def delete(self, address_id: int) -> bool:
        """The address with its mail, sent items and bindings."""
        return await self.store.delete_with_data(address_id)

    async def login(self, email: str | None, password: str | None) -> dict[str, Any]:
        """`/api/address_login`: the address's JWT for its password (ENABLE_ADDRESS_PASSWORD)."""
        if not self.settings.ENABLE_ADDRESS_PASSWORD:
            raise ApiError(403, LOGIN_DISABLED)
        if not email or not password:
            raise ApiError(400, LOGIN_REQUIRED)
        row = await self.store.get_by_name(email.strip().lower())
        if row is None:
            raise ApiError(404, ADDRESS_NOT_FOUND)
        if not await verify_password(row.password, password):
            raise ApiError(401, INVALID_LOGIN)
        if needs_rehash(row.password):
            await self.store.set_password(row.id, await hash_password(password), touch=False)
        return {"jwt": self.tokens.address_jwt(row.name, row.id), "address": row.name}

    async def change_password(self, address_id: int, new_password: str | None) -> None:
        """The owner's change and the admin's reset alike need ENABLE_ADDRESS_PASSWORD."""
        if not self.settings.ENABLE_ADDRESS_PASSWORD:
            raise ApiError(403, CHANGE_DISABLED)
        if not new_password:
            raise ApiError(400, NEW_PASSWORD_REQUIRED)
        if not await self.store.set_password(address_id, await hash_password(new_password)):
            raise ApiError(404, ADDRESS_NOT_FOUND)

    def _random_name(self) -> str:
        cfg = self.settings
        length = min(max(RANDOM_NAME_LENGTH, cfg.MIN_ADDRESS_LEN, 1), max(cfg.MAX_ADDRESS_LEN, 1))
        return _random_label(length)

    async def _check_block_list(self, local: str) -> None:
        """The admin's block list: any entry contained in the name refuses it, with the
        reference's bare text (COMPAT §11.5 gives it without the creation prefix)."""
        for blocked in (await self.accounts.get()).blockList:
            if blocked and blocked in local:
                raise ApiError(400, BLOCKED, name=local)

    @staticmethod
    def _check_length(local: str, low: int, high: int) -> None:
        """Bounds of the name itself, before any prefix."""
        if len(local) < low:
            raise _failed(NAME_TOO_SHORT.format(low=low))
        if len(local) > high:
            raise _failed(NAME_TOO_LONG.format(high=high))

    async def _resolve_domain(self, domain: str | None, allowed: list[str]) -> tuple[str, str]:
        """The domain of the new address and the allowed base it belongs to.

        An exact entry of the allowed list; or `x.base` when subdomain matching is in effect or
        the base is one of RANDOM_SUBDOMAIN_DOMAINS (the longest matching base wins).
        """
        if not allowed:
            raise ApiError(400, DOMAINS_NOT_SET)
        if not domain:
            domain = (
                allowed[0] if self.settings.CREATE_ADDRESS_DEFAULT_DOMAIN_FIRST else random.choice(allowed)
            )
        domain = domain.strip().lower()
        if not _valid_domain(domain):
            raise _failed(INVALID_DOMAIN)
        if domain in allowed:
            return domain, domain
        randoms = self.settings.RANDOM_SUBDOMAIN_DOMAINS
        matching = await self.accounts.subdomain_match()
        bases = [base for base in allowed if domain.endswith("." + base) and (matching or base in randoms)]
        if not bases:
            raise _failed(INVALID_DOMAIN)
        return domain, max(bases, key=len)

    async def _create(
        self, local: str, domain: str | None, allowed: list[str], random_subdomain: bool, source_meta: str
    ) -> NewAddress:
        """Pick the domain, then insert; a random subdomain label is drawn again (up to
        RANDOM_SUBDOMAIN_ATTEMPTS times) when the address it gives is taken."""
        if len(local) > MAX_LOCAL_PART:
            raise _failed(NAME_TOO_LONG.format(high=MAX_LOCAL_PART))
        chosen, base = await self._resolve_domain(domain, allowed)
        if random_subdomain and base not in self.settings.RANDOM_SUBDOMAIN_DOMAINS:
            raise _failed(NO_RANDOM_SUBDOMAIN)
        attempts = RANDOM_SUBDOMAIN_ATTEMPTS if random_subdomain else 1
        for _ in range(attempts):
            label = _random_label(self.settings.RANDOM_SUBDOMAIN_LENGTH) + "." if random_subdomain else ""
            try:
                return await self._insert(f"{local}@{label}{chosen}", source_meta)
            except AddressExists:
                continue
        raise _failed(ADDRESS_EXISTS)

    async def _insert(self, name: str, source_meta: str) -> NewAddress:
        """Store the address (with a generated password when addresses have passwords); raises
        AddressExists when the name is taken."""
        plain = generate_plain() if self.settings.ENABLE_ADDRESS_PASSWORD else None
        stored = await hash_password(sha256_hex(plain)) if plain is not None else None
        address_id = await self.store.create(name, stored, source_meta)
        return NewAddress(self.tokens.address_jwt(name, address_id), name, plain, address_id)
