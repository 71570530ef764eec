"""The client's IP address, as far as our own proxies (TRUSTED_PROXIES) vouch for it."""

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
