"""A seeded corpus of malformed mail: every way a sender (or an attacker) gets MIME wrong.

Each builder makes one family of broken messages from a random generator; `corpus(seed, n)`
draws from all of them, then mangles some further (line ends, NUL bytes, truncation), so
that the same seed always gives the same bytes and a failure can be replayed.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

Builder = Callable[[random.Random], bytes]

_CHARSETS = [
    "utf-8",
    "x-unknown-charset",
    "utf-8\x00",
    "",
    "'",
    "iso-8859-1",
    "utf-7",
    "x" * 300,
    "us-ascii;;",
    "\xff\xfe",
    "utf-16",
    "gb18030",
    "koi8-r",
    "cp1252'",
]
_ENCODINGS = [
    "base64",
    "quoted-printable",
    "8bit",
    "7bit",
    "binary",
    "x-uuencode",
    "bogus",
    "",
    "base64 base64",
]


def _headers(rng: random.Random, extra: bytes = b"") -> bytes:
    number = rng.randrange(1_000_000)
    return (
        b"From: Torture <t@remote.example>\r\nTo: you@test.example\r\n"
        + f"Subject: case {number}\r\nMessage-ID: <t{number}@remote.example>\r\n".encode()
        + extra
    )


def _text(rng: random.Random, size: int = 200) -> bytes:
    return bytes(rng.choice(b"abcdefghij klmnop\r\n<>&=?.") for _ in range(size))


def broken_boundaries(rng: random.Random) -> bytes:
    boundary = rng.choice(
        [b"b1", b"", b"x" * 200, b"with space", b'"quoted"', b"--", b"=?utf-8?q?b?=", b"\x00nul"]
    )
    declared = rng.choice([b'; boundary="' + boundary + b'"', b"; boundary=" + boundary, b"", b"; boundary="])
    part = b"Content-Type: text/plain\r\n\r\n" + _text(rng) + b"\r\n"
    shape = rng.randrange(6)
    if shape == 0:  # declared, never used
        body = _text(rng)
    elif shape == 1:  # never closed
        body = b"--" + boundary + b"\r\n" + part + b"--" + boundary + b"\r\n" + part
    elif shape == 2:  # the same boundary nested inside itself
        inner = (
            b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary + b"\r\n" + part
        )
        body = b"--" + boundary + b"\r\n" + inner + b"--" + boundary + b"--\r\n--" + boundary + b"--\r\n"
    elif shape == 3:  # closed twice, text after the end
        body = b"--" + boundary + b"\r\n" + part + (b"--" + boundary + b"--\r\n") * 2 + _text(rng)
    elif shape == 4:  # a closing delimiter first
        body = b"--" + boundary + b"--\r\n" + part + b"--" + boundary + b"\r\n"
    else:  # empty parts only
        body = (b"--" + boundary + b"\r\n") * rng.randrange(1, 50) + b"--" + boundary + b"--"
    return (
        _headers(rng, b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed" + declared + b"\r\n\r\n") + body
    )


def deep_nesting(rng: random.Random) -> bytes:
    depth = rng.choice([100, 100, 120, 60])
    same = rng.random() < 0.3
    opened = b""
    for level in range(depth):
        boundary = b"deep" if same else b"d%d" % level
        opened += b"--" + (b"deep" if same else b"d%d" % (level - 1)) + b"\r\n" if level else b""
        opened += b"Content-Type: multipart/" + rng.choice([b"mixed", b"alternative", b"related"])
        opened += b"; boundary=" + boundary + b"\r\n\r\n"
    leaf = (
        b"--"
        + (b"deep" if same else b"d%d" % (depth - 1))
        + b"\r\nContent-Type: text/plain\r\n\r\nbottom\r\n"
    )
    closing = (
        b"" if rng.random() < 0.4 else b"".join(b"--d%d--\r\n" % level for level in reversed(range(depth)))
    )
    return _headers(rng, b"MIME-Version: 1.0\r\n") + opened + leaf + closing


def bad_charsets(rng: random.Random) -> bytes:
    charset = rng.choice(_CHARSETS).encode("utf-8", "surrogateescape")
    kind = rng.choice([b"text/plain", b"text/html", b"text/enriched", b"text/x-weird"])
    body = rng.choice([_text(rng), "héllo wörld".encode("latin-1"), bytes(range(256)), "日本語".encode()])
    encoded_word = b"=?" + charset + b"?q?caf=E9?="
    return (
        b"From: " + encoded_word + b" <c@remote.example>\r\nSubject: " + encoded_word + b"\r\n"
        b"Content-Type: " + kind + b"; charset=" + charset + b"\r\n\r\n" + body
    )


def bad_transfer_encodings(rng: random.Random) -> bytes:
    encoding = rng.choice(_ENCODINGS).encode()
    body = rng.choice(
        [
            b"!!!not base64###\r\n",
            base64.b64encode(_text(rng))[:-3] + b"\r\n",
            b"QUJD=RA==\r\n====\r\n",
            b"=ZZ=\r\nsoft=\r\n=\r\n=4=\r\n=0D=0A=00\r\n",
            b"=" * 500,
            base64.b64encode(bytes(rng.randrange(256) for _ in range(3000))),
            b"begin 644 x\r\n`\r\nend\r\n",
        ]
    )
    multipart = rng.random() < 0.4
    if multipart:
        attachment = (
            b"--m\r\nContent-Type: application/octet-stream; name*=utf-8''%ZZ%00\r\n"
            b'Content-Disposition: attachment; filename="../../etc/\x00passwd"; filename*=bogus\r\n'
            b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n" + body + b"\r\n--m--\r\n"
        )
        return _headers(rng, b"Content-Type: multipart/mixed; boundary=m\r\n\r\n") + attachment
    return (
        _headers(rng, b"Content-Type: text/plain\r\nContent-Transfer-Encoding: " + encoding + b"\r\n\r\n")
        + body
    )


def huge_headers(rng: random.Random) -> bytes:
    shape = rng.randrange(4)
    if shape == 0:  # one 100 KB header
        return _headers(rng, b"X-Huge: " + b"h" * 100_000 + b"\r\n\r\nbody\r\n")
    if shape == 1:  # one header folded thousands of times
        return _headers(rng, b"Subject: " + b"\r\n folded" * 10_000 + b"\r\n\r\nbody\r\n")
    if shape == 2:  # thousands of headers
        return _headers(rng, b"".join(b"X-H%d: v\r\n" % n for n in range(5000)) + b"\r\nbody\r\n")
    return _headers(
        rng, b"To: " + b", ".join(b"r%d@test.example" % n for n in range(5000)) + b"\r\n\r\nbody\r\n"
    )


def nul_bytes(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"Subject: nul\x00in\x00subject\r\nFrom: a\x00@remote.example\r\n\r\nbody\x00\r\n",
            b"\x00\x00\x00\r\n\r\n\x00",
            b"Message-ID: <nul\x00id@remote.example>\r\nSubject: =?utf-8?q?a=00b?=\r\n\r\ncode 123456\x00",
            b"Content-Type: text/\x00html; charset=utf\x008\r\n\r\n<b>\x00</b>",
            _headers(rng, b"\r\n") + b"\x00" * 10_000,
        ]
    )


def rfc2047_garbage(rng: random.Random) -> bytes:
    words = [
        b"=?utf-8?B?!!!?=",
        b"=?unknown?Q?x?=",
        b"=?utf-8?q?unterminated",
        b"=?utf-8?X?bad-encoding?=",
        b"=??q?no-charset?=",
        b"=?utf-8*lang?Q?tagged?=",
        b"=?utf-8?B?" + base64.b64encode("é".encode())[:-1] + b"?=",
        b"=?iso-8859-1?q?=FF=FE=00?=",
        b"=?utf-8?q?" + b"=E2=82" * 50 + b"?=",
        b"=?=?utf-8?q?nested?=?=",
    ]
    value = b" ".join(rng.choice(words) for _ in range(rng.randrange(1, 300)))
    name = rng.choice([b"Subject", b"From", b"To", b"Reply-To", b"Content-Type"])
    return b"Message-ID: <g@remote.example>\r\n" + name + b": " + value + b"\r\nSubject: x\r\n\r\nbody\r\n"


def long_lines(rng: random.Random) -> bytes:
    line = bytes(rng.choice(b"abc=.<>") for _ in range(100)) * 1000
    return _headers(rng, b"Content-Type: text/html\r\n\r\n") + line + rng.choice([b"", b"\r\n", b"\n"])


def eight_bit_headers(rng: random.Random) -> bytes:
    value = rng.choice(
        ["café".encode("latin-1"), "café".encode(), b"\xff\xfe\xfd", b"\xc3\x28", "日本".encode("shift_jis")]
    )
    return (
        b"From: "
        + value
        + b" <e@remote.example>\r\nSubject: "
        + value
        + b"\r\nX-"
        + value
        + b": v\r\n\r\n"
        + value
    )


def degenerate(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"",
            b"\r\n",
            b"\r\n\r\n",
            b"Subject: headers only\r\nFrom: h@remote.example\r\n",
            b"Subject: headers only, no end",
            b"not a header line at all\r\nSubject: late\r\n\r\nx",
            b": empty name\r\n\r\n",
            b" leading continuation\r\nSubject: x\r\n\r\n",
            b".\r\n",
            b"..\r\n.\r\n..\r\n",
            b"Content-Type: message/rfc822\r\n\r\n" + b"Content-Type: message/rfc822\r\n\r\n" * 50,
            b"Content-Type: multipart/\r\n\r\n",
            b"Content-Type: ;;;;;\r\nContent-Disposition: ;=;=\r\n\r\nx",
            b"Content-Type: text/html\r\n\r\n<script>alert(1)</script><a href='javascript:x'>",
        ]
    )


def binary_junk(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.choice([1, 10, 1000, 20_000])))


BUILDERS: list[Builder] = [
    broken_boundaries,
    deep_nesting,
    bad_charsets,
    bad_transfer_encodings,
    huge_headers,
    nul_bytes,
    rfc2047_garbage,
    long_lines,
    eight_bit_headers,
    degenerate,
    binary_junk,
]


def _mangle(rng: random.Random, raw: bytes) -> bytes:
    """Sometimes break what the builder made a little more."""
    roll = rng.random()
    if roll < 0.12:
        return raw.replace(b"\r\n", b"\n")
    if roll < 0.2:
        return raw.replace(b"\r\n", b"\r")
    if roll < 0.26:
        return b"".join(line + rng.choice([b"\r\n", b"\n", b"\r", b"\n\r"]) for line in raw.split(b"\r\n"))
    if roll < 0.32 and raw:
        cut = rng.randrange(len(raw))
        return raw[:cut] + b"\x00" + raw[cut:]
    if roll < 0.38 and raw:
        return raw[: rng.randrange(len(raw))]
    return raw


def corpus(seed: int, count: int) -> list[bytes]:
    """`count` malformed messages, every family in turn, the same for the same seed."""
    rng = random.Random(seed)
    big = {huge_headers, long_lines}
    made: list[bytes] = []
    while len(made) < count:
        for builder in BUILDERS:
            # The large families are a few of the corpus, not a tenth: they are slow to read.
            if builder in big and rng.random() < 0.6:
                continue
            made.append(_mangle(rng, builder(rng)))
    return made[:count]
