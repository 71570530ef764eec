"""The junk checker in process, against a real DNS server on loopback: which checks may wait on
DNS (the worker runs the others without a hand-off), and what counts as a signed mail."""

from __future__ import annotations

from collections.abc import Iterator

import dkim
import dns.resolver
import pytest

from tempmail.config import Settings
from tempmail.inbound.junk import AuthChecker, _dkim_key_name
from tests.fakes.dkim_key import KEY_RECORD, PRIVATE_PEM
from tests.fakes.dns_server import DnsServer

ZONES = {
    ("good.example", "TXT"): ['"v=spf1 ip4:127.0.0.1 -all"'],
    ("sel._domainkey.good.example", "TXT"): [KEY_RECORD],
    ("_dmarc.good.example", "TXT"): ['"v=DMARC1; p=reject"'],
}
FROM = "Good <news@good.example>"


def signed(subject: str) -> bytes:
    raw = f"From: {FROM}\r\nTo: a@test.example\r\nSubject: {subject}\r\n\r\nHello.\r\n".encode()
    signature = dkim.sign(raw, b"sel", b"good.example", PRIVATE_PEM, include_headers=[b"from", b"subject"])
    return bytes(signature) + raw


@pytest.fixture(scope="module")
def checker() -> Iterator[AuthChecker]:
    system_resolver = dns.resolver.default_resolver  # the checker points pyspf at its own
    with DnsServer(ZONES) as dns_server:
        yield AuthChecker(Settings(DNS_RESOLVER=dns_server.address, ENABLE_CHECK_JUNK_MAIL=True))
    dns.resolver.default_resolver = system_resolver


def test_a_check_may_block_until_its_answers_are_cached(checker: AuthChecker) -> None:
    first, second = signed("one"), signed("two")
    args = ("news@good.example", "127.0.0.1", "mx.good.example", FROM)
    assert checker.may_block(first, *args)
    results = checker(first, *args)
    assert (results.spf, results.dkim, results.dmarc) == ("pass", "pass", "pass")
    assert not checker.may_block(second, *args)
    assert checker(second, *args).dkim == "pass"
    # another sender's SPF verdict is not cached yet
    assert checker.may_block(second, "other@good.example", "127.0.0.1", "mx.good.example", FROM)


def test_a_body_that_mentions_dkim_signature_is_unsigned(checker: AuthChecker) -> None:
    raw = f"From: {FROM}\r\nSubject: about DKIM\r\n\r\nDKIM-Signature: v=1; d=x.example\r\n".encode()
    assert _dkim_key_name(raw) == ""
    assert _dkim_key_name(raw.replace(b"\r\n", b"\n")) == ""  # bare-LF mail alike
    assert checker(raw, "news@good.example", "127.0.0.1", "mx.good.example", FROM).dkim == "none"


def test_the_key_name_is_read_from_a_folded_signature() -> None:
    raw = b"DKIM-Signature: v=1; a=rsa-sha256;\r\n\td=Good.Example; s=Sel;\r\n bh=a; b=d\r\nFrom: x\r\n\r\n."
    assert _dkim_key_name(raw) == "sel._domainkey.good.example"
    assert _dkim_key_name(b"DKIM-Signature: v=1; b=def\r\n\r\nbody") is None
