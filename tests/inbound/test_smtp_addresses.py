"""The envelope addresses of MAIL FROM and RCPT TO: the common `<local@domain>` form is read by a
regular expression; whatever it reads must be what the stdlib's RFC 5322 parser (aiosmtpd's)
reads, and everything else still goes to that parser."""

from __future__ import annotations

from email._header_value_parser import get_angle_addr
from email.errors import HeaderParseError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tempmail.inbound.smtp import _parse_address

ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"


def _by_the_stdlib(arg: str) -> tuple[str | None, str | None]:
    try:
        address, rest = get_angle_addr(arg)
    except HeaderParseError:
        return None, None
    return str(address.addr_spec), rest


@pytest.mark.parametrize(
    "arg",
    [
        "<a@b.c>",
        "<First.Last+tag@Sub.Example-Domain.org> SIZE=10240 BODY=8BITMIME",
        "<a@b.c>SIZE=1",
        "<a@b.c>   ",
        "<o'brien@example.com>",
        '<"quoted local"@example.com>',
        "<a@[192.0.2.1]>",
        "<a..b@example.com>",
        "< a@b.c >",
        "<a@b.c> (comment) SIZE=1",
        "<@relay.example:a@b.c>",
        "<a@b.c",
    ],
)
def test_an_address_reads_as_the_stdlib_reads_it(arg: str) -> None:
    assert _parse_address(arg) == _by_the_stdlib(arg)


def test_an_address_without_brackets_goes_to_the_stdlib() -> None:
    assert _parse_address("a@b.c SIZE=5") == ("a@b.c", "SIZE=5")


@given(
    local=st.text(alphabet=ATEXT + ".", min_size=1, max_size=20),
    domain=st.text(alphabet=ATEXT + ".", min_size=1, max_size=20),
    rest=st.text(alphabet=" \tSIZE=0123BODY", max_size=12),
)
def test_any_dot_atom_address_reads_as_the_stdlib_reads_it(local: str, domain: str, rest: str) -> None:
    arg = f"<{local}@{domain}>{rest}"
    assert _parse_address(arg) == _by_the_stdlib(arg)
