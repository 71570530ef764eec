"""The outbound guard: what URLs that users, addresses or providers set may make us connect to.

A webhook or OAuth2 URL is someone else's choice, and the server sits next to services that
trust their neighbours (databases, admin panels, the cloud's metadata endpoint): without a guard
an anonymous address could make it call them (SSRF). So every such connection goes only to
public addresses, unless the operator allows more with OUTBOUND_ALLOW_NETWORKS (config.py's
`AllowedNetwork`).

The check is on the addresses the name resolves to, and the connection then goes to exactly the
address that was checked: it is made in the HTTP client's network backend (httpcore's
`connect_tcp`), below every request and every redirect hop, so no second DNS answer (a rebinding)
and no redirect can get past it. TLS still verifies the certificate against the URL's host name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

from tempmail.config import AllowedNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")
# Cloud instance metadata (AWS, GCP, Azure, Oracle; AWS's IPv6 one): credentials, one GET away.
METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# The first that applies names why an address is refused (CGNAT before "private": Python's
# `is_private` leaves it out).
_KINDS: tuple[tuple[str, str], ...] = (
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_unspecified", "an unspecified address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private address"),
    ("is_reserved", "a reserved address"),
)


class TargetRefused(httpx.ConnectError):
    """The URL's host is, or resolves to, an address the guard refuses. An `httpx.ConnectError`,
    so callers that handle failed connections already handle it; its text is ours alone."""


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, 6to4, NAT64): judged as itself,
    so `::ffff:127.0.0.1` is loopback and a NAT64 form of a public address is public."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress, port: int, allowed: Iterable[AllowedNetwork] = ()) -> str | None:
    """Why a connection to `address`:`port` is refused (`"a loopback address"`), or None when
    it may go ahead: a public address, or one the operator allowed."""
    forms = [address]
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        forms.append(embedded)
    if any(rule.admits(form, port) for rule in allowed for form in forms):
        return None
    judged = forms[-1]
    if judged in METADATA:
        return "a cloud metadata address"
    if isinstance(judged, ipaddress.IPv4Address) and judged in CGNAT:
        return "a shared (CGNAT) address"
    for attribute, reason in _KINDS:
        if getattr(judged, attribute):
            return reason
    return None if judged.is_global else "not a public address"


def _named(host: str, address: IPAddress) -> str:
    """How a refusal names the target: `10.0.0.1 is`, or `intranet resolves to 10.0.0.1,`."""
    try:
        literal = ipaddress.ip_address(host) == address
    except ValueError:
        literal = False
    return f"{host} is" if literal else f"{host} resolves to {address},"


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, except that it resolves the host first, refuses the connection
    unless every address it resolves to passes `refusal`, and then connects to those addresses
    (never to the name again)."""

    def __init__(self, allowed: tuple[AllowedNetwork, ...]) -> None:
        self.allowed = allowed
        self._inner = httpcore.AnyIOBackend()

    async def _resolve(self, host: str, port: int, within: float | None) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(within):
                found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError:
            raise httpcore.ConnectError(f"cannot resolve {host}") from None
        # The scope of a link-local IPv6 answer ("fe80::1%eth0") is not part of the address.
        addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]
        return list(dict.fromkeys(addresses))

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        for address in addresses:
            reason = refusal(address, port, self.allowed)
            if reason is not None:
                raise TargetRefused(f"target not allowed: {_named(host, address)} {reason}")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host} has no address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a connection pool whose connections go through `GuardedBackend`,
    taking http and https URLs only. It uses no proxy (HTTP_PROXY and the like are not read): a
    proxy would connect for us, past the guard.

    httpx offers no way to hand its transport a network backend, so this builds the pool its
    constructor would (same TLS context, limits and no retries) and sets it where the parent's
    methods use it; everything else — requests, errors, closing — is httpx's own."""

    def __init__(self, allowed: tuple[AllowedNetwork, ...]) -> None:
        limits = httpx.Limits()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in SCHEMES:
            raise httpx.UnsupportedProtocol(
                f"only http and https URLs are allowed, not {request.url.scheme or 'none'}",
                request=request,
            )
        return await super().handle_async_request(request)
