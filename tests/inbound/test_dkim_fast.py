"""dkimpy made cheaper gives dkimpy's verdicts: the same mails pass and the same mails fail."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import random
from collections.abc import Callable
from types import ModuleType

import dkim
import dkim.crypto
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tempmail.inbound import dkim_fast

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


def _pristine(module: str) -> ModuleType:
    """A fresh copy of one of dkimpy's modules, as it was before `install` changed it."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


# Bytes that matter to the three rewritten steps: line ends (bare and paired), white space, tag
# separators, base64 and header-name characters, and "From " lines.
_PIECES = [b"\r\n", b"\n", b"\r", b" ", b"\t", b"  ", b";", b"=", b"b", b"b=", b" b =", b"bh=", b"A", b"z9"]
_PIECES += [b"+/", b"==", b":", b"From ", b"Subject:", b"x-h:", b"\xff", b"\r\r\n", b"\n\n", b"\r\n\r\n"]


def _generated(count: int, length: int) -> list[bytes]:
    rng = random.Random(20261202)
    return [b"".join(rng.choices(_PIECES, k=rng.randint(0, length))) for _ in range(count)]


def _outcome(function: Callable[[bytes], object], value: bytes) -> object:
    """What the function returns, or the name of what it raises (a pristine copy of dkimpy
    has exception classes of its own)."""
    try:
        return function(value)
    except Exception as exc:
        return type(exc).__name__


def test_rfc822_parse_is_dkimpys() -> None:
    original = _pristine("dkim").rfc822_parse
    signed = dkim.sign(MAIL, b"s", b"signer.example", _key()[0]) + MAIL
    samples = [MAIL, signed, signed.replace(b"\r\n", b"\n"), b"", b"\r\n", *_generated(5000, 40)]
    for sample in samples:
        assert _outcome(dkim_fast.rfc822_parse, sample) == _outcome(original, sample), sample


def test_btag_pattern_is_dkimpys() -> None:
    original = _pristine("dkim").RE_BTAG
    signed = dkim.sign(MAIL, b"s", b"signer.example", _key()[0]) + MAIL
    samples = [signed, *_generated(20000, 25)]
    for sample in samples:
        assert dkim_fast.BTAG.sub(b"\\1", sample) == original.sub(b"\\1", sample), sample


def test_relaxed_header_canonicalisation_is_dkimpys() -> None:
    original = _pristine("dkim.canonicalization").Relaxed.canonicalize_headers
    values = _generated(20000, 25)
    headers = [(name, value) for name, value in zip(reversed(values), values, strict=True)]
    assert dkim_fast.relaxed_headers(headers) == original(headers)


def test_a_mail_verifies_the_same_with_and_without_the_swaps() -> None:
    pem, record = _key()
    signed = dkim.sign(MAIL, b"s", b"signer.example", pem, canonicalize=(b"relaxed", b"relaxed")) + MAIL
    folded = signed.replace(b"Subject: hi", b"Subject:  hi\r\n\tthere")
    for mail, expected in ((signed, True), (signed.replace(b"\r\n", b"\n"), True), (folded, False)):
        assert bool(_pristine("dkim").DKIM(mail).verify(dnsfunc=lambda name, timeout=5: record)) is expected
        dkim_fast.install()
        assert bool(dkim.DKIM(mail).verify(dnsfunc=lambda name, timeout=5: record)) is expected
