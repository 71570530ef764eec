"""The client's IP address: as far as our own proxies (TRUSTED_PROXIES) vouch for it, and as the
reference records it where it records one (an address's creator, a sent mail's sender)."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind our proxies."""
    peer = request.client.host if request.client else ""
    if not trusted_proxies or not in_networks(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not in_networks(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def in_networks(ip: str, networks: list[str]) -> bool:
    """`ip` lies in one of `networks` (CIDR or single addresses); False for what is no IP."""
    try:
        address = ipaddress.ip_address(ip)
        return any(address in ipaddress.ip_network(net, strict=False) for net in networks)
    except ValueError:
        return False


def creator_ip(request: Request, trusted_proxies: list[str]) -> str:
    """Who created an address, as the reference records it: `cf-connecting-ip`, else the first
    `x-forwarded-for` hop, else `x-real-ip`, else `web:unknown`. Behind our own proxies
    (TRUSTED_PROXIES) the proxy-checked client address comes first."""
    if trusted_proxies:
        return client_ip(request, trusted_proxies)
    headers = request.headers
    forwarded = headers.get("x-forwarded-for", "").split(",")[0].strip()
    return headers.get("cf-connecting-ip") or forwarded or headers.get("x-real-ip") or "web:unknown"


def sender_ip(request: Request) -> str:
    """What the sent box records as `geoData.ip`: Cloudflare's header, as in the reference."""
    return request.headers.get("cf-connecting-ip") or "unknown"
