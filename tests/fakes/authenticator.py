"""A software WebAuthn authenticator, so end-to-end tests can register and use passkeys without a browser.

It plays both the authenticator and the browser's client: it takes the options JSON the server sends to
`navigator.credentials.create()` / `.get()` and returns the `PublicKeyCredential` JSON the page would post
back, signed with a real P-256 key so the server's py_webauthn verification runs unmodified.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

ES256 = -7
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
AAGUID = bytes(16)


class SoftAuthenticator:
    """An EC P-256 (ES256) platform authenticator held in memory."""

    def __init__(self, sign_count: int = 0) -> None:
        self.credential_id: bytes = secrets.token_bytes(32)
        self.sign_count = sign_count
        self.user_handle: bytes | None = None
        self._key = ec.generate_private_key(ec.SECP256R1())

    def register(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """Answer `navigator.credentials.create()` options with a "none"-attestation credential.

        Refuses, as a browser would, options that exclude this credential or do not allow ES256.
        """
        if ES256 not in {param["alg"] for param in options["pubKeyCredParams"]}:
            raise ValueError("relying party does not accept ES256 keys")
        if self._listed(options.get("excludeCredentials")):
            raise ValueError("credential is already registered with this relying party")
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attested = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        auth_data = self._auth_data(options["rp"]["id"], FLAG_UP | FLAG_UV | FLAG_AT) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        response = {
            "clientDataJSON": bytes_to_base64url(client_data),
            "attestationObject": bytes_to_base64url(attestation),
            "transports": ["internal"],
        }
        return self._credential(response)

    def authenticate(self, options: dict[str, Any], origin: str) -> dict[str, Any]:
        """Answer `navigator.credentials.get()` options with a signed assertion, bumping the sign count.

        An empty `allowCredentials` means a discoverable-credential login, which this credential serves.
        """
        if self.user_handle is None:
            raise ValueError("authenticator holds no credential; call register() first")
        allowed = options.get("allowCredentials")
        if allowed and not self._listed(allowed):
            raise ValueError("relying party did not allow this credential")
        self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._auth_data(options["rpId"], FLAG_UP | FLAG_UV)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": bytes_to_base64url(client_data),
            "authenticatorData": bytes_to_base64url(auth_data),
            "signature": bytes_to_base64url(signature),
            "userHandle": bytes_to_base64url(self.user_handle),
        }
        return self._credential(response)

    def _listed(self, descriptors: list[dict[str, Any]] | None) -> bool:
        """Whether a credential descriptor list (exclude/allow) names this credential."""
        return any(base64url_to_bytes(d["id"]) == self.credential_id for d in descriptors or [])

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        """The clientDataJSON a browser builds; the challenge goes in as the base64url text it came as."""
        data = {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()

    def _auth_data(self, rp_id: str, flags: int) -> bytes:
        """The fixed authenticatorData prefix: rpIdHash || flags || signCount."""
        return hashlib.sha256(rp_id.encode()).digest() + struct.pack(">BI", flags, self.sign_count)

    def _cose_key(self) -> bytes:
        """The public key as a COSE_Key map (EC2, ES256, P-256), as carried in attested credential data."""
        numbers = self._key.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: ES256, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        """Wrap an authenticator response in the PublicKeyCredential JSON envelope."""
        cred_id = bytes_to_base64url(self.credential_id)
        return {
            "id": cred_id,
            "rawId": cred_id,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }
