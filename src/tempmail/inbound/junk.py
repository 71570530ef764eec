"""SPF, DKIM and DMARC, verified by us (the reference trusts headers its cloud added).

SPF on the connecting IP and MAIL FROM (pyspf), DKIM signatures (dkimpy), DMARC alignment of
the From domain with whichever of them passed. DNS goes through one resolver that DNS_RESOLVER
can point at another server (tests run their own). The outcome is recorded in an
`Authentication-Results` header of our own (authres) and judged by the junk settings.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from email.utils import getaddresses

import authres
import authres.dmarc
import dkim
import dns.exception
import dns.resolver
import spf

from tempmail.config import Settings
from tempmail.inbound import dkim_fast, spf_dns
from tempmail.inbound.parse import header_block
from tempmail.inbound.worker_pool import WorkerPool
from tempmail.ttl_cache import MISSING, TtlCache

log = logging.getLogger(__name__)

DNS_TIMEOUT_SECONDS = 5.0
# TXT answers are reused for their TTL, at most MAX_CACHE_SECONDS; "no such record" for
# SHORT_CACHE_SECONDS. An SPF verdict depends only on (IP, sender, HELO) and the sender's
# records, whose TTLs pyspf does not tell: it is reused for SHORT_CACHE_SECONDS.
MAX_CACHE_SECONDS = 300.0
SHORT_CACHE_SECONDS = 60.0
CHECKS = ("spf", "dkim", "dmarc")
# Junk-check processes of a whole server: a core is left for the server itself. Each of its
# workers (WORKERS) runs its share, at least one, rather than this many of its own.
JUNK_PROCESSES = max(1, (os.cpu_count() or 2) - 1)
# A check can wait seconds on a sender's DNS; the other mails' checks go on meanwhile.
THREADS_PER_WORKER = 4
MAX_HEADER_BYTES = 65536  # how far a DKIM-Signature header is looked for
FAILING = {"spf": {"fail", "softfail", "permerror"}, "dkim": {"fail"}, "dmarc": {"fail"}}
_DMARC_POLICY = re.compile(r"(?:^|;)\s*p\s*=\s*(\w+)", re.IGNORECASE)
_DKIM_SIGNATURE = re.compile(rb"^dkim-signature:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_DKIM_TAG = re.compile(rb"(?:^|;)\s*([sdSD])\s*=\s*([^;\s]*)")
_FOLD = re.compile(rb"\r?\n")


@dataclass(frozen=True, slots=True)
class AuthResults:
    spf: str
    dkim: str
    dmarc: str
    header: str

    def result(self, check: str) -> str:
        return str(getattr(self, check))


def organizational_domain(domain: str) -> str:
    """The registrable domain, approximated as the last two labels (no public-suffix list)."""
    labels = domain.lower().rstrip(".").split(".")
    return ".".join(labels[-2:])


def make_resolver(address: str) -> dns.resolver.Resolver:
    """The system's resolver, or the `HOST[:PORT]` server given."""
    if not address:
        resolver = dns.resolver.Resolver()
    else:
        host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host or address]
        if port:
            resolver.port = int(port)
    resolver.lifetime = DNS_TIMEOUT_SECONDS
    # Records are cached for their TTL, as a resolver in front of a mail server would; the
    # same sender domains write to us again and again.
    resolver.cache = dns.resolver.LRUCache(max_size=10_000)
    return resolver


class AuthChecker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.hostname = settings.SMTP_HOSTNAME
        self.resolver = make_resolver(settings.DNS_RESOLVER)
        # pyspf asks this resolver (the configured server, cached), through `resolve` rather than
        # its own deprecated `query` (see spf_dns); so does any library that asks dnspython's
        # default one.
        dns.resolver.default_resolver = self.resolver
        spf_dns.install(self.resolver)
        dkim_fast.install()
        # In front of dnspython's own cache, whose lookups cost ~50 µs each even when they hit:
        # three of them per mail were a third of the check.
        self._records: TtlCache[str, bytes] = TtlCache(MAX_CACHE_SECONDS)
        self._spf_verdicts: TtlCache[tuple[str, str, str], str] = TtlCache(SHORT_CACHE_SECONDS)

    def _txt(self, name: bytes | str, timeout: float = DNS_TIMEOUT_SECONDS) -> bytes:
        """dkimpy's dnsfunc contract: the TXT record's strings joined, b"" when there is none."""
        query = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        cached = self._records.get(query)
        if isinstance(cached, bytes):
            return cached
        try:
            answer = self.resolver.resolve(query, "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            self._records.put(query, b"", SHORT_CACHE_SECONDS)
            return b""
        except (dns.exception.DNSException, ValueError):
            return b""
        record = b"".join(b"".join(rdata.strings) for rdata in answer)
        self._records.put(query, record, min(answer.rrset.ttl if answer.rrset else 0, MAX_CACHE_SECONDS))
        return record

    def _spf(self, ip: str | None, mail_from: str, helo: str) -> str:
        if not ip:
            return "none"
        sender = _spf_sender(mail_from, helo)
        key = _spf_key(ip, mail_from, helo)
        cached = self._spf_verdicts.get(key)
        if isinstance(cached, str):
            return cached
        try:
            result, _ = spf.check2(i=ip, s=sender, h=helo or "unknown", querytime=DNS_TIMEOUT_SECONDS)
        except Exception:
            log.exception("SPF check of %s from %s failed", sender, ip)
            return "temperror"
        if result not in ("temperror", "permerror"):
            self._spf_verdicts.put(key, str(result))
        return str(result)

    def _dkim(self, raw: bytes) -> tuple[str, str]:
        """(result, signing domain) of the first DKIM signature."""
        if _dkim_key_name(raw) == "":  # a body that merely mentions DKIM-Signature: is unsigned
            return "none", ""
        verifier = dkim.DKIM(raw)
        try:
            ok = verifier.verify(dnsfunc=self._txt)
        except Exception:
            return "fail", ""
        domain = verifier.domain.decode() if verifier.domain else ""
        return ("pass" if ok else "fail"), domain

    def _dmarc(
        self, from_domain: str, spf_result: str, mail_from: str, dkim_result: str, dkim_domain: str
    ) -> str:
        """Pass when SPF or DKIM passed for a domain aligned (relaxed) with the From domain."""
        if not from_domain:
            return "none"
        org = organizational_domain(from_domain)
        record = self._txt(f"_dmarc.{from_domain}") or self._txt(f"_dmarc.{org}")
        policy = _DMARC_POLICY.search(record.decode(errors="replace"))
        if not record.lower().startswith(b"v=dmarc1") or policy is None:
            return "none"
        spf_aligned = spf_result == "pass" and organizational_domain(mail_from.rpartition("@")[2]) == org
        dkim_aligned = dkim_result == "pass" and organizational_domain(dkim_domain) == org
        return "pass" if spf_aligned or dkim_aligned else "fail"

    def __call__(
        self, raw: bytes, mail_from: str, ip: str | None, helo: str, from_header: str
    ) -> AuthResults:
        """All three checks (blocking: DNS, and DKIM's hashing and RSA)."""
        spf_result = self._spf(ip, mail_from, helo)
        dkim_result, dkim_domain = self._dkim(raw)
        from_domain = _from_domain(from_header)
        dmarc_result = self._dmarc(from_domain, spf_result, mail_from, dkim_result, dkim_domain)
        header = authres.AuthenticationResultsHeader(
            authserv_id=self.hostname,
            results=[
                authres.SPFAuthenticationResult(result=spf_result, smtp_mailfrom=mail_from or None),
                authres.DKIMAuthenticationResult(result=dkim_result, header_d=dkim_domain or None),
                authres.dmarc.DMARCAuthenticationResult(result=dmarc_result, header_from=from_domain or None),
            ],
        )
        return AuthResults(spf_result, dkim_result, dmarc_result, str(header))

    def may_block(self, raw: bytes, mail_from: str, ip: str | None, helo: str, from_header: str) -> bool:
        """Whether the check may wait on DNS: False only when every answer it needs is cached
        (the SPF verdict, the signer's key, the DMARC records), as for a sender that wrote
        recently. The worker runs such a check without a hand-off to another thread."""
        if ip and self._spf_verdicts.get(_spf_key(ip, mail_from, helo)) is MISSING:
            return True
        key_name = _dkim_key_name(raw)
        if key_name is None or (key_name and self._records.get(key_name) is MISSING):
            return True
        from_domain = _from_domain(from_header)
        if not from_domain:
            return False
        own = self._records.get(f"_dmarc.{from_domain}")
        org = f"_dmarc.{organizational_domain(from_domain)}"
        return own is MISSING or (own == b"" and self._records.get(org) is MISSING)


def _spf_sender(mail_from: str, helo: str) -> str:
    """Whom SPF checks: the envelope sender, or postmaster at the HELO name for a bounce."""
    return mail_from or f"postmaster@{helo}"


def _spf_key(ip: str, mail_from: str, helo: str) -> tuple[str, str, str]:
    return (ip, _spf_sender(mail_from, helo).lower(), helo.lower())


@functools.lru_cache(maxsize=4096)
def _from_domain(from_header: str) -> str:
    """The From address's domain (parsed once per distinct header: senders repeat them)."""
    addresses = getaddresses([from_header])
    return addresses[0][1].rpartition("@")[2].lower() if addresses else ""


def _dkim_key_name(raw: bytes) -> str | None:
    """The key record dkimpy will look up for the first DKIM signature: "" for a mail without
    one, None when the signature cannot be read here (dkimpy will say why)."""
    header = _DKIM_SIGNATURE.search(header_block(raw), 0, MAX_HEADER_BYTES)
    if header is None:
        return ""
    tags: dict[bytes, bytes] = {
        name.lower(): value for name, value in _DKIM_TAG.findall(_FOLD.sub(b"", header[1]))
    }
    if not tags.get(b"s") or not tags.get(b"d"):
        return None
    return (tags[b"s"] + b"._domainkey." + tags[b"d"]).decode(errors="replace").rstrip(".").lower()


def checker(settings: Settings) -> AuthChecker:
    """What a junk-check worker process runs (see `JunkFilter`)."""
    return AuthChecker(settings)


class JunkFilter:
    """Runs the checks in worker processes: DKIM's canonicalisation and hashing are CPU work
    that would otherwise hold the event loop (and so every session's commit) and there is
    another core."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        share = settings.worker_share(JUNK_PROCESSES)
        self._workers = WorkerPool(f"{__name__}:checker", settings, share, THREADS_PER_WORKER)

    async def warm_up(self) -> None:
        """Start the workers now, not on the first mail (starting one takes a few hundred ms)."""
        await self._workers.start()

    async def check(
        self, raw: bytes, mail_from: str, ip: str | None, helo: str, from_header: str
    ) -> AuthResults:
        return await self._workers.call(raw, mail_from, ip, helo, from_header)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self._workers.close()

    def is_junk(self, results: AuthResults) -> bool:
        """Junk when a check of JUNK_MAIL_CHECK_LIST (all three if empty) fails, or a check of
        JUNK_MAIL_FORCE_PASS_LIST does not pass."""
        checked = [c for c in (self.settings.JUNK_MAIL_CHECK_LIST or CHECKS) if c in CHECKS]
        if any(results.result(check) in FAILING[check] for check in checked):
            return True
        forced = [c for c in self.settings.JUNK_MAIL_FORCE_PASS_LIST if c in CHECKS]
        return any(results.result(check) != "pass" for check in forced)
