"""Self-test: the soft authenticator's output must pass py_webauthn's own verification, and forged
output must not, or the passkey end-to-end tests would prove nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import PublicKeyCredentialDescriptor
from webauthn.registration.verify_registration_response import VerifiedRegistration

from tests.fakes.authenticator import SoftAuthenticator

RP_ID = "localhost"
ORIGIN = "http://localhost:8787"
USER_ID = b"42"


@dataclass
class Registered:
    authenticator: SoftAuthenticator
    verified: VerifiedRegistration


def register(authenticator: SoftAuthenticator) -> VerifiedRegistration:
    opts = generate_registration_options(
        rp_id=RP_ID, rp_name="tempmail", user_id=USER_ID, user_name="a@test.example"
    )
    credential = authenticator.register(json.loads(options_to_json(opts)), origin=ORIGIN)
    return verify_registration_response(
        credential=json.dumps(credential),
        expected_challenge=opts.challenge,
        expected_origin=ORIGIN,
        expected_rp_id=RP_ID,
    )


def login_options(**kwargs: Any) -> tuple[bytes, dict[str, Any]]:
    opts = generate_authentication_options(rp_id=RP_ID, **kwargs)
    return opts.challenge, json.loads(options_to_json(opts))


@pytest.fixture
def registered() -> Registered:
    authenticator = SoftAuthenticator()
    return Registered(authenticator, register(authenticator))


def test_registration_verifies(registered: Registered) -> None:
    assert registered.verified.credential_id == registered.authenticator.credential_id
    assert registered.verified.sign_count == 0
    assert registered.verified.user_verified
    assert registered.verified.fmt == "none"


def test_login_verifies_and_counts(registered: Registered) -> None:
    sign_count = registered.verified.sign_count
    for expected in (1, 2):
        challenge, options = login_options()
        credential = registered.authenticator.authenticate(options, origin=ORIGIN)
        assert base64url_to_bytes(credential["response"]["userHandle"]) == USER_ID
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=registered.verified.credential_public_key,
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
        assert verified.credential_id == registered.authenticator.credential_id
        assert verified.new_sign_count == expected
        sign_count = verified.new_sign_count


def test_initial_sign_count_is_reported() -> None:
    authenticator = SoftAuthenticator(sign_count=7)
    verified = register(authenticator)
    assert verified.sign_count == 7
    challenge, options = login_options()
    result = verify_authentication_response(
        credential=authenticator.authenticate(options, origin=ORIGIN),
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        credential_public_key=verified.credential_public_key,
        credential_current_sign_count=7,
    )
    assert result.new_sign_count == 8


def test_registration_from_wrong_origin_is_refused() -> None:
    opts = generate_registration_options(rp_id=RP_ID, rp_name="tempmail", user_id=USER_ID, user_name="x")
    credential = SoftAuthenticator().register(json.loads(options_to_json(opts)), origin="http://evil.test")
    with pytest.raises(InvalidRegistrationResponse, match="origin"):
        verify_registration_response(
            credential=credential,
            expected_challenge=opts.challenge,
            expected_origin=ORIGIN,
            expected_rp_id=RP_ID,
        )


def test_login_from_wrong_origin_is_refused(registered: Registered) -> None:
    challenge, options = login_options()
    credential = registered.authenticator.authenticate(options, origin="http://evil.test")
    with pytest.raises(InvalidAuthenticationResponse, match="origin"):
        verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=registered.verified.credential_public_key,
            credential_current_sign_count=0,
        )


def test_tampered_signature_is_refused(registered: Registered) -> None:
    challenge, options = login_options()
    credential = registered.authenticator.authenticate(options, origin=ORIGIN)
    signature = bytearray(base64url_to_bytes(credential["response"]["signature"]))
    signature[-1] ^= 0x01
    credential["response"]["signature"] = bytes_to_base64url(bytes(signature))
    with pytest.raises(InvalidAuthenticationResponse, match="signature"):
        verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=registered.verified.credential_public_key,
            credential_current_sign_count=0,
        )


def test_login_with_another_credential_allowed_is_refused(registered: Registered) -> None:
    _, options = login_options(allow_credentials=[PublicKeyCredentialDescriptor(id=b"someone else")])
    with pytest.raises(ValueError, match="did not allow"):
        registered.authenticator.authenticate(options, origin=ORIGIN)


def test_login_with_this_credential_allowed_succeeds(registered: Registered) -> None:
    cred_id = registered.authenticator.credential_id
    _, options = login_options(allow_credentials=[PublicKeyCredentialDescriptor(id=cred_id)])
    credential = registered.authenticator.authenticate(options, origin=ORIGIN)
    assert credential["rawId"] == bytes_to_base64url(cred_id)


def test_excluded_credential_is_not_registered_again(registered: Registered) -> None:
    opts = generate_registration_options(
        rp_id=RP_ID,
        rp_name="tempmail",
        user_id=USER_ID,
        user_name="a@test.example",
        exclude_credentials=[PublicKeyCredentialDescriptor(id=registered.authenticator.credential_id)],
    )
    with pytest.raises(ValueError, match="already registered"):
        registered.authenticator.register(json.loads(options_to_json(opts)), origin=ORIGIN)


def test_login_before_registration_is_refused() -> None:
    _, options = login_options()
    with pytest.raises(ValueError, match="register"):
        SoftAuthenticator().authenticate(options, origin=ORIGIN)
