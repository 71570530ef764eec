"""Passkeys (WebAuthn) for user login, with py_webauthn doing every cryptographic check.

Each ceremony's challenge is kept server-side for five minutes and used once: registration's
under the user, authentication's under the challenge itself (the person is not known yet).
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tempmail.accounts.roles import USER_NOT_FOUND
from tempmail.accounts.users import UserClaim, UserService
from tempmail.db.kv import SettingsStore
from tempmail.db.users import UserStore
from tempmail.errors import INVALID_INPUT, ApiError

PASSKEY_CHALLENGE_PREFIX = "passkey_challenge:"
CHALLENGE_TTL = 300
MAX_PASSKEY_NAME = 255
# The reference's texts: the cause of a failed ceremony stays in the log, not in the answer.
REGISTRATION_FAILED = "Registration failed"
AUTHENTICATION_FAILED = "Authentication failed"
INVALID_PASSKEY_NAME = "Invalid passkey name"
PASSKEY_NOT_FOUND = "Passkey not found"

log = logging.getLogger(__name__)


def _rp_id(domain: str | None) -> str:
    """The relying party id is a bare host name (what the browser's page is served from)."""
    host = (domain or "").strip().lower()
    if not host or len(host) > 253 or any(c in host for c in "/:@ ?#"):
        raise ApiError(400, INVALID_INPUT)
    return host


def _origin_matches(origin: str | None, rp_id: str) -> bool:
    """The page's origin must be the relying party's host or one of its subdomains."""
    host = urlsplit(origin or "").hostname or ""
    return host == rp_id or host.endswith("." + rp_id)


def _credential(credential: Any) -> dict[str, Any] | None:
    """The PublicKeyCredential as an object (a JSON text of one is accepted too)."""
    if isinstance(credential, str):
        try:
            credential = json.loads(credential)
        except ValueError:
            return None
    return credential if isinstance(credential, dict) else None


class PasskeyService:
    def __init__(self, store: UserStore, kv: SettingsStore, users: UserService, rp_name: str) -> None:
        self.store = store
        self.kv = kv
        self.users = users
        self.rp_name = rp_name

    async def list(self, user: UserClaim) -> list[dict[str, Any]]:
        return [dict(row._mapping) for row in await self.store.passkeys(user.user_id)]

    async def rename(self, user: UserClaim, passkey_id: str | None, name: Any) -> None:
        """Renaming a passkey the user does not have changes nothing and is no error, as there."""
        if not isinstance(name, str) or not name or len(name) > MAX_PASSKEY_NAME:
            raise ApiError(400, INVALID_PASSKEY_NAME)
        await self.store.rename_passkey(user.user_id, passkey_id or "", name)

    async def delete(self, user: UserClaim, passkey_id: str) -> None:
        await self.store.delete_passkey(user.user_id, passkey_id)

    async def registration_options(self, user: UserClaim, domain: str | None) -> dict[str, Any]:
        rp_id = _rp_id(domain)
        existing = await self.store.passkeys(user.user_id)
        options = generate_registration_options(
            rp_id=rp_id,
            rp_name=self.rp_name,
            user_id=str(user.user_id).encode(),
            user_name=user.user_email,
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(row.passkey_id)) for row in existing
            ],
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
        )
        await self.kv.put_expiring(
            f"{PASSKEY_CHALLENGE_PREFIX}register:{user.user_id}",
            {"challenge": bytes_to_base64url(options.challenge), "rp_id": rp_id},
            CHALLENGE_TTL,
        )
        return dict(json.loads(options_to_json(options)))

    async def register(self, user: UserClaim, origin: str | None, name: str | None, credential: Any) -> None:
        key = f"{PASSKEY_CHALLENGE_PREFIX}register:{user.user_id}"
        pending = await self.kv.get_expiring(key)
        parsed = _credential(credential)
        if pending is None or not await self.kv.take_expiring(key, pending) or parsed is None:
            raise ApiError(400, REGISTRATION_FAILED)
        rp_id = str(pending.value["rp_id"])
        if not _origin_matches(origin, rp_id):
            raise ApiError(400, REGISTRATION_FAILED)
        try:
            verified = verify_registration_response(
                credential=parsed,
                expected_challenge=base64url_to_bytes(pending.value["challenge"]),
                expected_origin=str(origin),
                expected_rp_id=rp_id,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            log.info("passkey registration of user %s failed: %s", user.user_id, exc)
            raise ApiError(400, REGISTRATION_FAILED) from None
        passkey = {
            "public_key": bytes_to_base64url(verified.credential_public_key),
            "rp_id": rp_id,
            "aaguid": verified.aaguid,
        }
        await self.store.add_passkey(
            user.user_id,
            (name or "").strip()[:MAX_PASSKEY_NAME] or "passkey",
            bytes_to_base64url(verified.credential_id),
            json.dumps(passkey),
            verified.sign_count,
        )

    async def authentication_options(self, domain: str | None) -> dict[str, Any]:
        rp_id = _rp_id(domain)
        options = generate_authentication_options(
            rp_id=rp_id, user_verification=UserVerificationRequirement.PREFERRED
        )
        challenge = bytes_to_base64url(options.challenge)
        await self.kv.put_expiring(
            f"{PASSKEY_CHALLENGE_PREFIX}auth:{challenge}", {"rp_id": rp_id}, CHALLENGE_TTL
        )
        return dict(json.loads(options_to_json(options)))

    async def authenticate(self, origin: str | None, domain: str | None, credential: Any) -> str:
        """Verify an assertion and answer a user JWT for the passkey's owner, with the
        reference's answers: no credential id → Invalid input, an unknown one → 404, any failed
        check (challenge, origin, signature) → Authentication failed, the owner gone → 404."""
        parsed = _credential(credential)
        if parsed is None or not isinstance(parsed.get("id"), str) or not parsed["id"]:
            raise ApiError(400, INVALID_INPUT)
        credential_id = str(parsed["id"])
        row = await self.store.passkey_by_credential(credential_id)
        if row is None:
            raise ApiError(404, PASSKEY_NOT_FOUND)
        rp_id = (domain or "").strip().lower()
        try:
            client_data = parse_client_data_json(base64url_to_bytes(parsed["response"]["clientDataJSON"]))
            key = f"{PASSKEY_CHALLENGE_PREFIX}auth:{bytes_to_base64url(client_data.challenge)}"
            pending = await self.kv.get_expiring(key)
            if (
                pending is None
                or pending.value.get("rp_id") != rp_id
                or not await self.kv.take_expiring(key, pending)
                or not _origin_matches(origin, rp_id)
            ):
                raise ValueError("unknown or expired challenge, or a foreign origin")
            stored = json.loads(row.passkey)
            verified = verify_authentication_response(
                credential=parsed,
                expected_challenge=client_data.challenge,
                expected_rp_id=rp_id,
                expected_origin=str(origin),
                credential_public_key=base64url_to_bytes(stored["public_key"]),
                credential_current_sign_count=int(row.counter),
            )
        except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
            log.info("passkey login with %s failed: %s", credential_id, exc)
            raise ApiError(400, AUTHENTICATION_FAILED) from None
        await self.store.set_passkey_counter(row.id, verified.new_sign_count)
        user = await self.store.get(row.user_id)
        if user is None:
            raise ApiError(404, USER_NOT_FOUND)
        return self.users.user_jwt(user.user_email, user.id)

    async def purge_expired_challenges(self) -> None:
        """Drop registration and login challenges nobody answered before they expired."""
        await self.kv.purge_expired(PASSKEY_CHALLENGE_PREFIX)
