"""User accounts (API.md §6): registration, login, roles, and the addresses a user holds.

The rules live here, the queries in `tempmail.db.users`; routes only translate HTTP.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tempmail.accounts.roles import USER_NOT_FOUND, Roles
from tempmail.config import Settings
from tempmail.db.addresses import AddressStore, touch_due
from tempmail.db.kv import SettingsStore
from tempmail.db.mails import MailStore
from tempmail.db.paging import Page
from tempmail.db.users import AlreadyBound, UserExists, UserStore
from tempmail.errors import USER_TOKEN, ApiError, InvalidMail, SendFailed
from tempmail.security.passwords import (
    generate_plain,
    hash_password,
    needs_rehash,
    sha256_hex,
    verify_password,
)
from tempmail.security.tokens import Tokens

USER_SETTINGS_KEY = "user_settings"
VERIFY_CODE_PREFIX = "verify_code:"
VERIFY_CODE_TTL = 300
# Wrong guesses allowed per code; after that the code is dead until it expires, and no new one
# can be asked for before then, so guessing is capped at this many tries per 5 minutes.
MAX_VERIFY_ATTEMPTS = 5
USER_JWT_DAYS = 30
RENEW_WITHIN_DAYS = 7
ROLE_TOKEN_SECONDS = 3600
DAY = 86400

INVALID_LOGIN = "Invalid email or password"
ADDRESS_NOT_FOUND = "Address not found"
NO_ADDRESS_OR_USER = "No address or user token"
ALREADY_BOUND = "Address is already binded, please unbind first"
NOT_BOUND = "Address is not binded"
MAX_COUNT = "Max address count reached"
REGISTRATION_DISABLED = "User registration is disabled, please contact the administrator"
VERIFY_SENDER_NOT_SET = "Verify mail sender address is not set, please contact the administrator"
DOMAIN_NOT_ALLOWED = "User mail domain must be in this list {domains}"
PATTERN_MISMATCH = "Email address format does not match the required pattern: /{pattern}/"
CODE_ALREADY_SENT = "Code already sent, please wait"
SEND_CODE_FAILED = "Failed to send verify code: {reason}"
INVALID_VERIFY_CODE = "Invalid verify code"
USER_EXISTS = "User already exists, please login"
INVALID_ADDRESS_OR_USER = "Invalid address or user token"
TARGET_NOT_FOUND = "Target user not found"
SENDER_DOMAIN_NOT_ALLOWED = "VerifyMailSender domain must be in {domains}"
NEW_PASSWORD_REQUIRED = "New password is required"
DEFAULT_MAX_ADDRESS_COUNT = 5


class UserSettings(BaseModel):
    """The admin's registration rules, kept as JSON under USER_SETTINGS_KEY; keys the reference
    does not know are dropped."""

    model_config = ConfigDict(extra="ignore")

    enable: bool = False
    enableMailVerify: bool = False
    verifyMailSender: str = ""
    enableMailAllowList: bool = False
    mailAllowList: list[str] = Field(default_factory=list)
    maxAddressCount: int = DEFAULT_MAX_ADDRESS_COUNT
    enableEmailCheckRegex: bool = False
    emailCheckRegex: str = ""

    @field_validator("maxAddressCount", mode="before")
    @classmethod
    def _count(cls, value: Any) -> int:
        """Missing, not a number or negative is stored as the default, silently, as there (and,
        ours, a fraction too: the count is an integer here)."""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return DEFAULT_MAX_ADDRESS_COUNT
        return value


@dataclass(frozen=True, slots=True)
class UserClaim:
    """Who a valid user JWT speaks for, and its full payload (echoed by /user_api/settings)."""

    user_id: int
    user_email: str
    payload: dict[str, Any]


def check_email_rules(email: str, rules: UserSettings) -> None:
    """The allow-list and pattern rules shared by register and verify_code."""
    domain = email.rpartition("@")[2].strip().lower()
    allowed = {entry.strip().lower() for entry in rules.mailAllowList}
    if rules.enableMailAllowList and domain not in allowed:
        raise ApiError(400, DOMAIN_NOT_ALLOWED, domains=pretty_json(rules.mailAllowList))
    if rules.enableEmailCheckRegex and rules.emailCheckRegex:
        try:
            matched = re.search(rules.emailCheckRegex, email) is not None
        except (re.error, OverflowError, RecursionError):
            matched = False
        if not matched:
            raise ApiError(
                400,
                PATTERN_MISMATCH,
                pattern=rules.emailCheckRegex,
            )


def pretty_json(value: Any) -> str:
    """A list as the reference prints it in a text: `JSON.stringify(value, null, 2)`."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def normalize_email(email: str | None) -> str:
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in email) or len(email) > 254:
        raise ApiError(400, INVALID_LOGIN)
    return email


async def _find(
    key: int | None,
    name: str | None,
    by_id: Callable[[int], Awaitable[Any | None]],
    by_name: Callable[[str], Awaitable[Any | None]],
) -> Any | None:
    """A row by its id when given, else by its name (trimmed, case-folded)."""
    return await by_id(key) if key else await by_name((name or "").strip().lower())


class Mailer(Protocol):
    """Sends the mails accounts write themselves (verification codes). `tempmail.outbound`
    provides it at start-up: accounts sit below sending, so they name only what they need."""

    async def send_text(self, from_address: str, from_name: str, to: str, subject: str, text: str) -> None:
        """Raises InvalidMail for a mail that cannot be built, SendFailed when no relay took it."""


class UserService:
    def __init__(
        self,
        settings: Settings,
        store: UserStore,
        addresses: AddressStore,
        mails: MailStore,
        kv: SettingsStore,
        tokens: Tokens,
        mailer: Mailer,
        roles: Roles,
    ) -> None:
        self.settings = settings
        self.store = store
        self.addresses = addresses
        self.mails = mails
        self.kv = kv
        self.tokens = tokens
        self.mailer = mailer
        self.roles = roles

    # --- settings -------------------------------------------------------------------------

    async def rules(self) -> UserSettings:
        return UserSettings.model_validate(await self.kv.get_cached(USER_SETTINGS_KEY, {}) or {})

    async def save_rules(self, rules: UserSettings) -> None:
        """`POST /admin/user_settings`: mail verification needs a sender on one of DOMAINS."""
        if rules.enableMailVerify and not rules.verifyMailSender:
            raise ApiError(400, VERIFY_SENDER_NOT_SET)
        sender_domain = rules.verifyMailSender.rpartition("@")[2].strip().lower()
        if rules.verifyMailSender and sender_domain not in self.settings.DOMAINS:
            raise ApiError(
                400,
                SENDER_DOMAIN_NOT_ALLOWED,
                domains=pretty_json(self.settings.DOMAINS),
            )
        if rules.emailCheckRegex:
            try:
                re.compile(rules.emailCheckRegex)
            except (re.error, OverflowError, RecursionError) as exc:
                raise ApiError(400, "Invalid input: {detail}", detail=f"emailCheckRegex: {exc}") from None
        await self.kv.set(USER_SETTINGS_KEY, rules.model_dump())

    # --- tokens ---------------------------------------------------------------------------

    def user_jwt(self, email: str, user_id: int) -> str:
        now = int(time.time())
        return self.tokens.sign(
            {"user_email": email, "user_id": user_id, "exp": now + USER_JWT_DAYS * DAY, "iat": now}
        )

    def read_user(self, token: str | None) -> UserClaim | None:
        payload = self.tokens.read_user(token or "")
        if payload is None:
            return None
        return UserClaim(int(payload["user_id"]), str(payload["user_email"]), payload)

    async def is_live(self, claim: UserClaim) -> bool:
        return await self.store.is_live(claim.user_id, claim.user_email)

    async def live_claim(self, token: str | None) -> UserClaim | None:
        """The claim of a valid token of an existing account, else None: where the reference
        takes a bad user token for no token at all (`/api/new_address`)."""
        claim = self.read_user(token)
        return claim if claim is not None and await self.is_live(claim) else None

    # --- accounts -------------------------------------------------------------------------

    async def send_verify_code(self, email: str | None) -> dict[str, Any]:
        email = normalize_email(email)
        rules = await self.rules()
        if not rules.enable:
            raise ApiError(403, REGISTRATION_DISABLED)
        if not rules.verifyMailSender:
            raise ApiError(400, VERIFY_SENDER_NOT_SET)
        check_email_rules(email, rules)
        key = VERIFY_CODE_PREFIX + email
        if await self.kv.get_expiring(key) is not None:
            raise ApiError(400, CODE_ALREADY_SENT)
        code = f"{secrets.randbelow(10**6):06d}"
        await self.kv.put_expiring(key, {"code": code, "attempts": 0}, VERIFY_CODE_TTL)
        try:
            await self.mailer.send_text(
                from_address=rules.verifyMailSender,
                from_name=self.settings.TITLE or "tempmail",
                to=email,
                subject=f"Your verification code: {code}",
                text=f"Your verification code is {code}. It expires in {VERIFY_CODE_TTL // 60} min.\n",
            )
        except (InvalidMail, SendFailed) as exc:
            # No mail went out: the address may ask again at once.
            current = await self.kv.get_expiring(key)
            if current is not None:
                await self.kv.take_expiring(key, current)
            if isinstance(exc, InvalidMail):
                raise ApiError(400, "Invalid input: {detail}", detail=str(exc)) from None
            raise ApiError(400, SEND_CODE_FAILED, reason=str(exc)) from None
        return {"success": True, "expirationTtl": VERIFY_CODE_TTL}

    async def _check_verify_code(self, email: str, code: str | None) -> None:
        """Accept the right code once; count wrong guesses and kill the code after too many."""
        key = VERIFY_CODE_PREFIX + email
        while True:
            current = await self.kv.get_expiring(key)
            state = current.value if current is not None else None
            if (
                current is None
                or not isinstance(state, dict)
                or state.get("attempts", 0) >= MAX_VERIFY_ATTEMPTS
            ):
                raise ApiError(400, INVALID_VERIFY_CODE)
            if code and secrets.compare_digest(str(state.get("code")), code.strip()):
                if await self.kv.take_expiring(key, current):
                    return
                continue
            spent = {**state, "attempts": int(state.get("attempts", 0)) + 1}
            if await self.kv.replace_expiring(key, current, spent):
                raise ApiError(400, INVALID_VERIFY_CODE)

    async def register(self, email: str | None, password: str | None, code: str | None) -> None:
        rules = await self.rules()
        if not rules.enable:
            raise ApiError(403, REGISTRATION_DISABLED)
        if not email or not password:
            raise ApiError(400, INVALID_LOGIN)
        email = normalize_email(email)
        check_email_rules(email, rules)
        if await self.store.get_by_email(email) is not None:
            raise ApiError(400, USER_EXISTS)
        if rules.enableMailVerify:
            await self._check_verify_code(email, code)
        role = self.settings.USER_DEFAULT_ROLE if rules.enableMailVerify else None
        await self.create(email, password, role)

    async def create(self, email: str, password: str, role: str | None = None) -> int:
        try:
            return await self.store.create(email, await hash_password(password), role)
        except UserExists:
            raise ApiError(400, USER_EXISTS) from None

    async def login(self, email: str | None, password: str | None) -> str:
        if not email or not password:
            raise ApiError(400, INVALID_LOGIN)
        row = await self.store.get_by_email(email.strip().lower())
        if row is None:
            raise ApiError(400, USER_NOT_FOUND)
        if not await verify_password(row.password, password):
            raise ApiError(400, INVALID_LOGIN)
        if needs_rehash(row.password):
            await self.store.set_password(row.id, await hash_password(password))
        return self.user_jwt(row.user_email, row.id)

    async def login_external(self, email: str, user_info: dict[str, Any] | None = None) -> str:
        """Log in (creating the account on first visit) someone an identity provider vouched for."""
        row = await self.store.get_by_email(email)
        if row is None:
            with contextlib.suppress(UserExists):  # a parallel first login created it
                await self.store.create(email, await hash_password(sha256_hex(generate_plain(32))))
            row = await self.store.get_by_email(email)
            if row is None:
                raise ApiError(400, USER_NOT_FOUND)
        return self.user_jwt(row.user_email, row.id)

    async def reset_password(self, user_id: int, password: str | None) -> None:
        if not password:
            raise ApiError(400, NEW_PASSWORD_REQUIRED)
        if not await self.store.set_password(user_id, await hash_password(password)):
            raise ApiError(400, USER_NOT_FOUND)

    async def settings_of(self, claim: UserClaim) -> dict[str, Any]:
        """`GET /user_api/settings`: the token's payload plus role, admin flag and renewals."""
        if not await self.is_live(claim):
            raise ApiError(400, USER_NOT_FOUND)
        role = await self.store.role(claim.user_id)
        now = int(time.time())
        access_token = None
        if role:
            access_token = self.tokens.sign(
                {
                    "user_email": claim.user_email,
                    "user_id": claim.user_id,
                    "user_role": role,
                    "iat": now,
                    "exp": now + ROLE_TOKEN_SECONDS,
                }
            )
        renew = int(claim.payload.get("exp", 0)) - now < RENEW_WITHIN_DAYS * DAY
        configured = self.roles.config_of(role)
        user_role = None
        if configured is not None:
            # As configured: a role without a `prefix` key has none here either.
            user_role = configured.model_dump(exclude_none=True)
        elif role:
            user_role = {"role": role, "domains": [], "prefix": ""}
        return {
            **claim.payload,
            "is_admin": bool(role and role == self.settings.ADMIN_USER_ROLE),
            "access_token": access_token,
            "new_user_token": self.user_jwt(claim.user_email, claim.user_id) if renew else None,
            "user_role": user_role,
        }

    # --- the admin's user list -------------------------------------------------------------

    async def page(self, limit: int, offset: int, query: str) -> Page[Any]:
        """Users whose e-mail contains `query` (trimmed, case-folded)."""
        return await self.store.page(limit, offset, query.strip().lower())

    async def delete(self, user_id: int) -> bool:
        return await self.store.delete(user_id)

    async def bind_by_admin(
        self, user_id: int | None, user_email: str | None, address_id: int | None, address: str | None
    ) -> None:
        """`POST /admin/users/bind_address`: either side by id or by name, under the bind rules
        of `/user_api/bind_address` (the user's stored role sets the limit)."""
        if not (user_id or user_email) or not (address_id or address):
            raise ApiError(400, NO_ADDRESS_OR_USER)
        row = await _find(address_id, address, self.addresses.get, self.addresses.get_by_name)
        if row is None:
            raise ApiError(400, ADDRESS_NOT_FOUND)
        user = await _find(user_id, user_email, self.store.get, self.store.get_by_email)
        if user is None:
            raise ApiError(400, USER_NOT_FOUND)
        await self.bind(user.id, row.id, await self.roles.role_of(user.id))

    # --- addresses ------------------------------------------------------------------------

    async def check_room(self, user_id: int, role: str | None) -> None:
        """The address-count limit of `role` (the admin's per-role limit, else the registration
        rules' maxAddressCount); a limit of 0 or less is none."""
        limit = await self.roles.max_address_count(role, (await self.rules()).maxAddressCount)
        if limit > 0 and await self.store.bound_count(user_id) >= limit:
            raise ApiError(400, MAX_COUNT)

    async def bind(self, user_id: int, address_id: int, role: str | None) -> None:
        """Bind an address, checking in the reference's order: the address, the user, already
        this user's (nothing to do), the limit, bound to someone else."""
        if await self.addresses.get(address_id) is None:
            raise ApiError(400, ADDRESS_NOT_FOUND)
        if await self.store.get(user_id) is None:
            raise ApiError(400, USER_NOT_FOUND)
        owner = await self.store.owner_of(address_id)
        if owner == user_id:
            return
        await self.check_room(user_id, role)
        if owner is not None:
            raise ApiError(400, ALREADY_BOUND)
        try:
            await self.store.bind(user_id, address_id)
        except AlreadyBound:
            raise ApiError(400, ALREADY_BOUND) from None

    async def owned(self, user_id: int, address_id: int) -> Any:
        """The address row, if it is bound to this user."""
        row = (
            await self.addresses.get(address_id) if await self.store.owner_of(address_id) == user_id else None
        )
        if row is None:
            raise ApiError(400, NOT_BOUND)
        return row

    async def unbind(self, user_id: int, address_id: int | None) -> None:
        """Unbinding an address that is not bound (to this user) is no error, as in the reference."""
        if not address_id:
            raise ApiError(400, INVALID_ADDRESS_OR_USER)
        if await self.addresses.get(address_id) is None:
            raise ApiError(400, ADDRESS_NOT_FOUND)
        await self.store.unbind(user_id, address_id)

    async def address_jwt(self, user_id: int, address_id: int) -> dict[str, Any]:
        row = await self.owned(user_id, address_id)
        return {"jwt": self.tokens.address_jwt(row.name, row.id)}

    async def transfer(self, user_id: int, address_id: int, target_email: str | None) -> None:
        """Move a bound address to another user: the row is re-created (a new id, so credentials
        of the old id die); the mails, keyed by name, stay with it."""
        if await self.addresses.get(address_id) is None:
            raise ApiError(400, ADDRESS_NOT_FOUND)
        if await self.store.get(user_id) is None:
            raise ApiError(400, USER_NOT_FOUND)
        target = await self.store.get_by_email((target_email or "").strip().lower())
        if target is None:
            raise ApiError(400, TARGET_NOT_FOUND)
        await self.check_room(target.id, await self.roles.role_of(target.id))
        if await self.store.owner_of(address_id) != user_id:
            raise ApiError(400, NOT_BOUND)
        if await self.store.transfer(address_id, target.id) is None:
            raise ApiError(400, ADDRESS_NOT_FOUND)

    async def bound_page(self, user_id: int, limit: int, offset: int) -> Page[Any]:
        """The user's addresses; reading them counts as their activity, as in the reference."""
        await self.addresses.touch_bound(user_id)
        return await self.store.bound_page(user_id, limit, offset)

    async def bound_all(self, user_id: int) -> list[Any]:
        return await self.store.bound_all(user_id)

    async def purge_expired_codes(self) -> None:
        """Drop verification codes nobody used before they expired."""
        await self.kv.purge_expired(VERIFY_CODE_PREFIX)

    async def mail_page(self, claim: UserClaim, limit: int, offset: int, address: str | None) -> Page[Any]:
        """Mails of the user's addresses (or of one of them); an address that is not the user's
        gives an empty page, not an error, so the answer never tells whose it is. A token whose
        account is gone is refused here, in the statement that reads the page.

        Reading counts as the addresses' activity, at most once a day (see `touch_bound`): the
        page says how stale it is, so a read writes only on the day's first poll."""
        only = address.strip().lower() if address else None
        inbox = await self.mails.user_inbox(claim.user_id, claim.user_email, only, limit, offset)
        if inbox is None:
            raise ApiError(401, USER_TOKEN)
        if inbox.never_active or (inbox.oldest_active is not None and touch_due(inbox.oldest_active)):
            await self.addresses.touch_bound(claim.user_id)
        return inbox.page

    async def delete_mail(self, user_id: int, mail_id: int) -> None:
        """Only a mail of a bound address is deleted; any other id is no error (as the
        reference's delete answers success whatever matched)."""
        row = await self.mails.get(mail_id)
        if row is not None and row.address in [bound.name for bound in await self.store.bound_all(user_id)]:
            await self.mails.delete(mail_id, owner=row.address)
