"""Two costs taken out of dkimpy's verification, which runs for every signed mail before the
SMTP answer. dkimpy still parses signatures, fetches keys, canonicalises and hashes.

- Its RSASSA-PKCS1-v1_5 step is pure Python (`pow` on a 2048-bit int and byte loops that turn
  ints into strings): about 0.3 ms of CPU per mail, more than half of the whole junk check.
  OpenSSL, through `cryptography`, does the same verification in a few microseconds.
- It parses the signer's key record (base64 and ASN.1, in Python) on every mail, though the
  same few signers send most of our mail: the parse is kept per (name, record).

Both swaps go through the module-level names dkimpy calls (`RSASSA_PKCS1_v1_5_verify`,
`evaluate_pk`) and keep their contracts; `install` refuses to run on a dkimpy without them.
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


_parse_key = functools.lru_cache(maxsize=1024)(dkim.evaluate_pk)


def install() -> None:
    """Make dkimpy verify RSA signatures with `verify` and parse each key record once
    (idempotent)."""
    for name in ("RSASSA_PKCS1_v1_5_verify", "evaluate_pk"):
        if not hasattr(dkim, name):
            raise RuntimeError(f"dkimpy no longer calls {name}; update {__name__}")
    dkim.RSASSA_PKCS1_v1_5_verify = verify
    dkim.evaluate_pk = _parse_key
