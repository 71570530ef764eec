"""dkimpy made cheaper gives dkimpy's verdicts: the same mails pass and the same mails fail."""

from __future__ import annotations

import base64
import hashlib

import dkim
import dkim.crypto
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tempmail.mail import dkim_fast

MAIL = b"From: a@signer.example\r\nTo: b@test.example\r\nSubject: hi\r\n\r\nBody line\r\n"


def _key(bits: int = 2048) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def _verdicts(mail: bytes, record: bytes) -> tuple[bool, bool]:
    """(dkimpy's own RSA, ours) on the same mail and key."""

    def dns(name: bytes, timeout: float = 5) -> bytes:
        return record

    results = []
    for verify in (dkim.crypto.RSASSA_PKCS1_v1_5_verify, dkim_fast.verify):
        dkim.RSASSA_PKCS1_v1_5_verify = verify
        try:
            results.append(bool(dkim.DKIM(mail).verify(dnsfunc=dns)))
        except dkim.ValidationError:
            results.append(False)
    dkim_fast.install()
    return results[0], results[1]


@pytest.mark.parametrize("algorithm", [b"rsa-sha256", b"rsa-sha1"])
def test_signed_mail_passes_with_both(algorithm: bytes) -> None:
    pem, record = _key()
    signed = dkim.sign(MAIL, b"s", b"signer.example", pem, signature_algorithm=algorithm) + MAIL
    assert _verdicts(signed, record) == (True, True)


def test_tampered_header_fails_with_both() -> None:
    pem, record = _key()
    signed = dkim.sign(MAIL, b"s", b"signer.example", pem) + MAIL
    assert _verdicts(signed.replace(b"Subject: hi", b"Subject: ho"), record) == (False, False)


def test_signature_by_another_key_fails_with_both() -> None:
    pem, _ = _key()
    _, other_record = _key()
    signed = dkim.sign(MAIL, b"s", b"signer.example", pem) + MAIL
    assert _verdicts(signed, other_record) == (False, False)


def test_unknown_hash_or_garbage_signature_is_false_not_an_error() -> None:
    _, record = _key()
    public = dkim.crypto.parse_public_key(base64.b64decode(record.split(b"p=")[1]))
    assert dkim_fast.verify(hashlib.md5(b"x"), b"\x01" * 256, public) is False
    assert dkim_fast.verify(hashlib.sha256(b"x"), b"short", public) is False


def test_a_key_record_is_parsed_once() -> None:
    pem, record = _key()
    signed = dkim.sign(MAIL, b"s", b"signer.example", pem) + MAIL
    dkim_fast.install()
    before = dkim_fast._parse_key.cache_info()
    for _ in range(3):
        assert dkim.DKIM(signed).verify(dnsfunc=lambda name, timeout=5: record)
    after = dkim_fast._parse_key.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
