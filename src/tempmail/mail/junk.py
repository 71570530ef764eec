"""SPF, DKIM and DMARC, verified by us (the reference trusts headers its cloud added).

SPF on the connecting IP and MAIL FROM (pyspf), DKIM signatures (dkimpy), DMARC alignment of
the From domain with whichever of them passed. DNS goes through one resolver that DNS_RESOLVER
can point at another server (tests run their own). The outcome is recorded in an
`Authentication-Results` header of our own (authres) and judged by the junk settings.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from email.utils import getaddresses

import authres
import authres.dmarc
import dkim
import dns.exception
import dns.resolver
import spf

from tempmail.config import Settings

log = logging.getLogger(__name__)

DNS_TIMEOUT_SECONDS = 5.0
CHECKS = ("spf", "dkim", "dmarc")
WORKERS = max(1, (os.cpu_count() or 2) - 1)
FAILING = {"spf": {"fail", "softfail", "permerror"}, "dkim": {"fail"}, "dmarc": {"fail"}}
_DMARC_POLICY = re.compile(r"(?:^|;)\s*p\s*=\s*(\w+)", re.IGNORECASE)


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
        # pyspf asks dnspython's default resolver: make it ours (the configured server, cached).
        dns.resolver.default_resolver = self.resolver

    def _txt(self, name: bytes | str, timeout: float = DNS_TIMEOUT_SECONDS) -> bytes:
        """dkimpy's dnsfunc contract: the TXT record's strings joined, b"" when there is none."""
        query = name.decode() if isinstance(name, bytes) else name
        try:
            answer = self.resolver.resolve(query.rstrip("."), "TXT", lifetime=timeout)
        except (dns.exception.DNSException, ValueError):
            return b""
        return b"".join(b"".join(record.strings) for record in answer)

    def _spf(self, ip: str | None, mail_from: str, helo: str) -> str:
        if not ip:
            return "none"
        sender = mail_from or f"postmaster@{helo}"
        try:
            result, _ = spf.check2(i=ip, s=sender, h=helo or "unknown", querytime=DNS_TIMEOUT_SECONDS)
        except Exception:
            log.exception("SPF check of %s from %s failed", sender, ip)
            return "temperror"
        return str(result)

    def _dkim(self, raw: bytes) -> tuple[str, str]:
        """(result, signing domain) of the first DKIM signature."""
        if b"dkim-signature:" not in raw[:65536].lower():
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

    def _check(self, raw: bytes, mail_from: str, ip: str | None, helo: str, from_header: str) -> AuthResults:
        spf_result = self._spf(ip, mail_from, helo)
        dkim_result, dkim_domain = self._dkim(raw)
        addresses = getaddresses([from_header])
        from_domain = addresses[0][1].rpartition("@")[2].lower() if addresses else ""
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

    def check(self, raw: bytes, mail_from: str, ip: str | None, helo: str, from_header: str) -> AuthResults:
        """All three checks (blocking: DNS, and DKIM's hashing and RSA)."""
        return self._check(raw, mail_from, ip, helo, from_header)


# The checker of a worker process, made once by the pool's initializer.
_worker_checker: AuthChecker | None = None


def _start_worker(settings: Settings) -> None:
    global _worker_checker
    _worker_checker = AuthChecker(settings)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker must not outlive the server, even one that was killed without a shutdown."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _check_in_worker(raw: bytes, mail_from: str, ip: str | None, helo: str, from_header: str) -> AuthResults:
    assert _worker_checker is not None
    return _worker_checker.check(raw, mail_from, ip, helo, from_header)


class JunkFilter:
    """Runs the checks in worker processes: DKIM's hashing and RSA are CPU work that would
    otherwise share the interpreter lock with every SMTP session, and there is another core."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=WORKERS,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.settings,),
            )
        return self._pool

    async def warm_up(self) -> None:
        """Start the workers now, not on the first mail (a spawn takes a few hundred ms)."""
        loop = asyncio.get_running_loop()
        pool = self._workers()
        await asyncio.gather(*(loop.run_in_executor(pool, os.getpid) for _ in range(WORKERS)))

    async def check(
        self, raw: bytes, mail_from: str, ip: str | None, helo: str, from_header: str
    ) -> AuthResults:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._workers(), _check_in_worker, raw, mail_from, ip, helo, from_header
            )
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start new ones rather than fail every mail.
            log.warning("junk check workers died; starting new ones")
            self._pool = None
            return await loop.run_in_executor(
                self._workers(), _check_in_worker, raw, mail_from, ip, helo, from_header
            )

    async def close(self) -> None:
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)

    def is_junk(self, results: AuthResults) -> bool:
        """Junk when a check of JUNK_MAIL_CHECK_LIST (all three if empty) fails, or a check of
        JUNK_MAIL_FORCE_PASS_LIST does not pass."""
        checked = [c for c in (self.settings.JUNK_MAIL_CHECK_LIST or CHECKS) if c in CHECKS]
        if any(results.result(check) in FAILING[check] for check in checked):
            return True
        forced = [c for c in self.settings.JUNK_MAIL_FORCE_PASS_LIST if c in CHECKS]
        return any(results.result(check) != "pass" for check in forced)
