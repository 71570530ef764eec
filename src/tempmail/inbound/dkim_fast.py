"""Costs taken out of dkimpy's verification, which runs for every signed mail before the
SMTP answer. dkimpy still parses signatures, fetches keys, canonicalises and hashes.

- Its RSASSA-PKCS1-v1_5 step is pure Python (`pow` on a 2048-bit int and byte loops that turn
  ints into strings): about 0.3 ms of CPU per mail, more than half of the whole junk check.
  OpenSSL, through `cryptography`, does the same verification in a few microseconds.
- It parses the signer's key record (base64 and ASN.1, in Python) on every mail, though the
  same few signers send most of our mail: the parse is kept per (name, record).
- Three of its regular-expression steps cost ~0.25 ms a mail between them, a third of the
  check: splitting the whole message into lines with `re.split(b"\\r?\\n")`, relaxed header
  canonicalisation through module-level `re.sub` calls (twice per header, for every header,
  twice per mail), and blanking the signature's b= tag with a pattern that backtracks at
  every character of the signature. Each is replaced by a function or pattern that gives the
  same bytes for every input (the tests compare them with dkimpy's own on generated input).

Every swap goes through the module-level names dkimpy calls (`RSASSA_PKCS1_v1_5_verify`,
`evaluate_pk`, `rfc822_parse`, `RE_BTAG`, `Relaxed.canonicalize_headers`) and keeps its
contract; `install` refuses to run on a dkimpy without them.
"""

from __future__ import annotations

import functools
import re
from typing import Protocol

import dkim
import dkim.canonicalization
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

_HEADER_NAME = re.compile(rb"([\x21-\x7e]+?):")
_WSP_RUN = re.compile(rb"[\t ]+")
# dkimpy's RE_BTAG is `([;\s]b FWS =)(?: FWS [b64])* (\r?\n\Z)?` with FWS matching any run of
# white space or nothing; `(?: FWS [b64])*` is then the longest run of white space and base64
# characters that ends on a base64 character, which this says without backtracking.
BTAG = re.compile(rb"([;\s]b\s*=)(?:[\sa-zA-Z0-9+/=]*[a-zA-Z0-9+/=])?(?:\r?\n\Z)?")


def rfc822_parse(message: bytes) -> tuple[list[list[bytes]], bytes]:
    """dkimpy's `rfc822_parse`: ([name, value] per header, body with CRLF line ends), the
    lines split by `bytes.split` instead of `re.split(b"\\r?\\n")`."""
    if message.count(b"\n") == message.count(b"\r\n"):
        lines = message.split(b"\r\n")
    else:
        *lines, last = message.split(b"\n")
        lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        lines.append(last)
    headers: list[list[bytes]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            break
        if line[0] in (0x09, 0x20):
            headers[-1][1] += line + b"\r\n"
        elif (match := _HEADER_NAME.match(line)) is not None:
            headers.append([match[1], line[match.end() :] + b"\r\n"])
        elif not line.startswith(b"From "):
            raise dkim.MessageFormatError(f"Unexpected characters in RFC822 header: {line!r}")
        i += 1
    return headers, b"\r\n".join(lines[i:])


def _compress_whitespace(value: bytes) -> bytes:
    """Each run of spaces and tabs as one space; a value with neither tabs nor two spaces in a
    row (a long DKIM-Signature, say) already is."""
    return _WSP_RUN.sub(b" ", value) if b"\t" in value or b"  " in value else value


def relaxed_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """dkimpy's relaxed header canonicalisation; unfolding (its `re.sub(b"\\r?\\n", b"", v)`)
    by two `bytes.replace`, which remove the same line breaks."""
    return [
        (
            name.lower().rstrip(),
            _compress_whitespace(value.replace(b"\r\n", b"").replace(b"\n", b"")).strip() + b"\r\n",
        )
        for name, value in headers
    ]


def install() -> None:
    """Make dkimpy verify RSA signatures with `verify`, parse each key record once, and use
    the cheaper equivalents above (idempotent)."""
    for name in ("RSASSA_PKCS1_v1_5_verify", "evaluate_pk", "rfc822_parse", "RE_BTAG", "MessageFormatError"):
        if not hasattr(dkim, name):
            raise RuntimeError(f"dkimpy no longer has {name}; update {__name__}")
    if not hasattr(dkim.canonicalization.Relaxed, "canonicalize_headers"):
        raise RuntimeError(f"dkimpy no longer has Relaxed.canonicalize_headers; update {__name__}")
    dkim.RSASSA_PKCS1_v1_5_verify = verify
    dkim.evaluate_pk = _parse_key
    dkim.rfc822_parse = rfc822_parse
    dkim.RE_BTAG = BTAG
    dkim.canonicalization.Relaxed.canonicalize_headers = staticmethod(relaxed_headers)
