"""How the IP access rules match (COMPAT §4.2), as the reference's `ip_blacklist.ts` does.

Pure functions, so the admin's validation and the runtime check agree on what a pattern is: an
entry with a regex metacharacter is a regular expression, anything else is plain text. The
admin writes these patterns; a broken one never matches (it must not lock everyone out or let
the check fail).
"""

from __future__ import annotations

import re
from functools import lru_cache

# The characters that make an entry a regular expression: ^ $ . * + ? [ ] { } ( ) | \
_REGEX_METACHARACTERS = re.compile(r"[\^$.*+?\[\]{}()|\\]")
# Whitelist entries that are addresses, compared as text even though their dots are
# metacharacters: an IPv4 literal or an IPv4-mapped IPv6 address. (A plain IPv6 literal, hex and
# colons, has no metacharacter: it is compared as text anyway.)
_IPV4_LITERAL = re.compile(r"(?:::ffff:)?\d{1,3}(?:\.\d{1,3}){3}", re.IGNORECASE)


def looks_like_regex(entry: str) -> bool:
    return _REGEX_METACHARACTERS.search(entry) is not None


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> re.Pattern[str] | None:
    """The pattern compiled once (settings are read on every guarded request), or None when it
    does not compile."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _search(pattern: str, value: str) -> bool:
    regex = compiled(pattern)
    return regex is not None and regex.search(value) is not None


def matches_pattern(value: str, pattern: str) -> bool:
    """A blacklist entry: a regex (case-sensitive, anywhere in the value) when it has a
    metacharacter, else a substring. So `192.168.1` is a regex, which in practice also acts as
    a substring match."""
    if looks_like_regex(pattern):
        return _search(pattern, value)
    return pattern in value


def matches_any_pattern(value: str, patterns: list[str]) -> bool:
    return any(matches_pattern(value, pattern) for pattern in patterns if pattern)


def whitelisted(ip: str, entries: list[str]) -> bool:
    """A whitelist entry that is an IP literal must equal the IP; otherwise an entry with a
    metacharacter is a regex tested against the IP; otherwise it must equal the IP."""
    for entry in entries:
        if not entry:
            continue
        if _IPV4_LITERAL.fullmatch(entry) or not looks_like_regex(entry):
            if entry == ip:
                return True
        elif _search(entry, ip):
            return True
    return False
