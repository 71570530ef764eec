"""dkimpy's RSA step, done by OpenSSL (through `cryptography`) instead of pure Python.

dkimpy parses signatures, fetches keys, canonicalises and hashes, and that stays its job. Its
last step, RSASSA-PKCS1-v1_5 verification, is written in Python (`pow` on a 2048-bit int and
byte loops that turn ints into strings): about 0.3 ms of CPU per signed mail, more than half
of everything the junk check costs, and it runs before the SMTP answer. OpenSSL does the same
verification in a few microseconds. The swap happens once per process, through the one name
dkimpy calls (`dkim.RSASSA_PKCS1_v1_5_verify`), with the same contract: True or False.
"""

from __future__ import annotations

import functools
from typing import Protocol

import dkim
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

_HASHES: dict[str, hashes.HashAlgorithm] = {"sha256": hashes.SHA256(), "sha1": hashes.SHA1()}


class Digest(Protocol):
    """What dkimpy hands over: a hash object that has seen the canonicalised headers."""

    @property
    def name(self) -> str: ...

    def digest(self) -> bytes: ...


@functools.lru_cache(maxsize=1024)
def _public_key(modulus: int, exponent: int) -> rsa.RSAPublicKey:
    """A sender's key, built once: the same few domains sign most of the mail we get."""
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


def verify(digest: Digest, signature: bytes, public_key: dict[str, int]) -> bool:
    """dkimpy's `RSASSA_PKCS1_v1_5_verify(hash, signature, public_key)`, by OpenSSL."""
    algorithm = _HASHES.get(digest.name.lower())
    if algorithm is None:
        return False
    try:
        key = _public_key(public_key["modulus"], public_key["publicExponent"])
        # dkimpy reads the signature as an integer; OpenSSL wants it at the modulus's length.
        signature = signature.rjust((key.key_size + 7) // 8, b"\0")
        key.verify(signature, digest.digest(), padding.PKCS1v15(), Prehashed(algorithm))
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def install() -> None:
    """Make dkimpy verify RSA signatures with `verify` (idempotent)."""
    if not hasattr(dkim, "RSASSA_PKCS1_v1_5_verify"):
        raise RuntimeError("dkimpy no longer calls RSASSA_PKCS1_v1_5_verify; update tempmail.mail.dkim_rsa")
    dkim.RSASSA_PKCS1_v1_5_verify = verify
