"""Addresses: creating them (the naming and domain rules of API.md §4, in the reference's
order), their passwords, their activity, finding and deleting them."""

from __future__ import annotations

import random
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from tempmail.accounts.domains import allowed_domain
from tempmail.accounts.settings import AccountSettingsService
from tempmail.config import Settings, UserRole
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
_NAME_ALPHABET = string.ascii_lowercase + string.digits


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


class AddressService:
    def __init__(
        self, settings: Settings, store: AddressStore, accounts: AccountSettingsService, tokens: Tokens
    ) -> None:
        self.settings = settings
        self.store = store
        self.accounts = accounts
        self.tokens = tokens
        self._strip = re.compile(settings.ADDRESS_REGEX)
        self._check = re.compile(settings.ADDRESS_CHECK_REGEX) if settings.ADDRESS_CHECK_REGEX else None

    async def create_public(
        self,
        name: str | None,
        domain: str | None,
        random_subdomain: bool,
        source_meta: str,
        logged_in: bool,
        role: UserRole | None = None,
    ) -> NewAddress:
        """`POST /api/new_address`: every limit applies; role domains and prefix when given."""
        cfg = self.settings
        if cfg.DISABLE_ANONYMOUS_USER_CREATE_EMAIL and not logged_in:
            raise ApiError(
                403, "New address for anonymous user is disabled, please contact the administrator"
            )
        if not cfg.ENABLE_USER_CREATE_EMAIL:
            raise ApiError(403, "New address is disabled, please contact the administrator")
        if not name or cfg.DISABLE_CUSTOM_ADDRESS_NAME:
            name = self._random_name()
        local = await self._clean_name(name)
        if self._check is not None and not self._check.search(local):
            raise ApiError(400, "Failed to create address: Name is not valid")
        if len(local) < cfg.MIN_ADDRESS_LEN:
            raise ApiError(
                400,
                "Failed to create address: Name is too short (min {min})",
                min=cfg.MIN_ADDRESS_LEN,
            )
        if len(local) > cfg.MAX_ADDRESS_LEN:
            raise ApiError(
                400,
                "Failed to create address: Name is too long (max {max})",
                max=cfg.MAX_ADDRESS_LEN,
            )
        prefix = role.prefix if role is not None and role.prefix else cfg.PREFIX
        allowed = role.domains if role is not None and role.domains else cfg.default_domains
        chosen = await self._pick_domain(domain, allowed, random_subdomain)
        return await self._insert(prefix + local, chosen, source_meta)

    async def create_admin(
        self, name: str, domain: str | None, enable_prefix: bool, random_subdomain: bool
    ) -> NewAddress:
        """`POST /admin/new_address`: no length, regex or allowed-domain limits."""
        if not name:
            raise ApiError(400, "Required field is missing")
        local = await self._clean_name(name)
        if not local:
            raise ApiError(400, "Failed to create address: Name is too short (min {min})", min=1)
        prefix = self.settings.PREFIX if enable_prefix else ""
        chosen = await self._pick_domain(domain, self.settings.DOMAINS, random_subdomain)
        return await self._insert(prefix + local, chosen, "admin")

    # --- existing addresses ------------------------------------------------------------------

    async def is_live(self, address_id: int, name: str) -> bool:
        """The address a credential names still exists (under the same name)."""
        return await self.store.is_live(address_id, name)

    async def touch(self, address_id: int) -> None:
        """Record activity (the inactive-address cleanup goes by it)."""
        await self.store.touch(address_id)

    async def get(self, address_id: int) -> Any | None:
        return await self.store.get(address_id)

    async def find(self, address_id: int | None, name: str | None) -> Any | None:
        """By id when given, else by name (trimmed, case-folded)."""
        if address_id:
            return await self.store.get(address_id)
        return await self.store.get_by_name((name or "").strip().lower())

    async def name_of(self, address_id: int) -> str:
        row = await self.store.get(address_id)
        if row is None:
            raise ApiError(404, "Address not found")
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
            raise ApiError(403, "Password login is disabled")
        if not email or not password:
            raise ApiError(400, "Email and password are required")
        row = await self.store.get_by_name(email.strip().lower())
        if row is None:
            raise ApiError(404, "Address not found")
        if not await verify_password(row.password, password):
            raise ApiError(401, "Invalid email or password")
        if needs_rehash(row.password):
            await self.store.set_password(row.id, await hash_password(password))
        return {"jwt": self.tokens.address_jwt(row.name, row.id), "address": row.name}

    async def change_password(self, address_id: int, new_password: str | None) -> None:
        """The owner's change; needs ENABLE_ADDRESS_PASSWORD."""
        if not self.settings.ENABLE_ADDRESS_PASSWORD:
            raise ApiError(403, "Password change is disabled")
        await self.reset_password(address_id, new_password)

    async def reset_password(self, address_id: int, new_password: str | None) -> None:
        """The admin's reset, and the owner's change once allowed."""
        if not new_password:
            raise ApiError(400, "New password is required")
        if not await self.store.set_password(address_id, await hash_password(new_password)):
            raise ApiError(404, "Address not found")

    def _random_name(self) -> str:
        cfg = self.settings
        length = min(max(RANDOM_NAME_LENGTH, cfg.MIN_ADDRESS_LEN), cfg.MAX_ADDRESS_LEN)
        return _random_label(length)

    async def _clean_name(self, name: str) -> str:
        """Trim, lower-case, drop ADDRESS_REGEX characters, then apply the admin's block list.

        Lower-casing comes first ([better] than the reference), so `Bob` becomes `bob`.
        """
        local = self._strip.sub("", name.strip().lower())
        for blocked in (await self.accounts.get()).blockList:
            if blocked and blocked in local:
                raise ApiError(400, "Name[{name}]is blocked", name=local)
        return local

    async def subdomain_match(self) -> bool:
        """The effective value of COMPAT §11.4: ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH=false is a
        kill switch, else the admin's override, else the environment."""
        return await self.accounts.subdomain_match()

    async def _pick_domain(self, domain: str | None, allowed: list[str], random_subdomain: bool) -> str:
        if not allowed:
            raise ApiError(400, "Domains are not set, please contact the administrator")
        if not domain:
            domain = (
                allowed[0] if self.settings.CREATE_ADDRESS_DEFAULT_DOMAIN_FIRST else random.choice(allowed)
            )
        domain = domain.strip().lower()
        if not allowed_domain(domain, allowed, await self.subdomain_match()):
            raise ApiError(400, "Failed to create address: Invalid domain")
        if random_subdomain and domain in self.settings.RANDOM_SUBDOMAIN_DOMAINS:
            domain = f"{_random_label(self.settings.RANDOM_SUBDOMAIN_LENGTH)}.{domain}"
        return domain

    async def _insert(self, local: str, domain: str, source_meta: str) -> NewAddress:
        if len(local) > MAX_LOCAL_PART:
            raise ApiError(400, "Failed to create address: Name is too long (max {max})", max=MAX_LOCAL_PART)
        name = f"{local}@{domain}"
        plain = generate_plain() if self.settings.ENABLE_ADDRESS_PASSWORD else None
        stored = await hash_password(sha256_hex(plain)) if plain is not None else None
        try:
            address_id = await self.store.create(name, stored, source_meta)
        except AddressExists:
            raise ApiError(400, "Failed to create address: Address already exists") from None
        return NewAddress(self.tokens.address_jwt(name, address_id), name, plain, address_id)
