"""pyspf's DNS lookups through dnspython's `Resolver.resolve`.

pyspf's own dnspython lookup (`spf.DNSLookup_dnspython`) calls `dns.resolver.query`, deprecated
since dnspython 2.0: a DeprecationWarning on every SPF check, and a call that a later dnspython
drops. pyspf looks its lookups up in `spf.DNSLookup` at each query, so this one, with the same
contract, takes its place: `((name, type), value)` pairs, nothing for a name or type that does
not exist, `spf.TempError` when DNS cannot answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dns.exception
import dns.resolver
import spf

Lookup = Callable[[str, str, bool, float], list[tuple[tuple[str, str], Any]]]


def _value(qtype: str, rdata: Any) -> Any:
    """An answer's data as pyspf reads it, by record type."""
    if qtype in ("A", "AAAA"):
        return rdata.address
    if qtype == "MX":
        return (rdata.preference, rdata.exchange)
    if qtype == "PTR":
        return rdata.target.to_text(True)
    if qtype in ("TXT", "SPF"):
        return rdata.strings
    return None


def lookup_with(resolver: dns.resolver.Resolver) -> Lookup:
    """pyspf's `DNSLookup(name, qtype, strict, timeout)` on `resolver`."""

    def lookup(
        name: str, qtype: str, strict: bool = True, timeout: float = 30
    ) -> list[tuple[tuple[str, str], Any]]:
        try:
            answers = resolver.resolve(name, qtype, lifetime=timeout)
        except (dns.resolver.NoAnswer, dns.resolver.NXDOMAIN):
            return []
        except dns.exception.DNSException as exc:
            raise spf.TempError(f"DNS {exc}") from None
        found = [((name, qtype), _value(qtype, rdata)) for rdata in answers]
        return [pair for pair in found if pair[1] is not None]

    return lookup


def install(resolver: dns.resolver.Resolver) -> None:
    """Make pyspf ask `resolver`, through `resolve`."""
    spf.DNSLookup = lookup_with(resolver)
