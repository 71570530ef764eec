"""Request helpers every route group shares: the services, paging, ids, the client's IP."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request

from tempmail.db.paging import Page
from tempmail.errors import DELETE_DISABLED, ApiError
from tempmail.services import Services

# Ids are BIGINT on PostgreSQL; anything outside would be a database error, so it is bad input.
MAX_ID = 2**63 - 1
MAX_LIMIT = 100


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int


def _int_param(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def ensure_deletes_allowed(services: Services) -> None:
    """Owners (address or user) may delete mail only with ENABLE_USER_DELETE_EMAIL.

    Called in the handler, after the credential check, so a wrong credential is still a 401."""
    if not services.settings.ENABLE_USER_DELETE_EMAIL:
        raise ApiError(403, DELETE_DISABLED)


def paging(request: Request) -> Paging:
    """`limit` 1..100 and `offset` >= 0, as integers, else the spec's 400 texts."""
    limit = _int_param(request.query_params.get("limit"))
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "Invalid limit")
    offset = _int_param(request.query_params.get("offset"))
    if offset is None or not 0 <= offset <= MAX_ID:
        raise ApiError(400, "Invalid offset")
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(paging)]


def page_json(page: Page[Any], shape: Any = None) -> dict[str, Any]:
    """`{results, count}` with each row passed through `shape` (default: the row's mapping)."""
    rows = [shape(row) if shape else dict(row._mapping) for row in page.results]
    return {"results": rows, "count": page.count}


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind our proxies."""
    peer = request.client.host if request.client else ""
    if not trusted_proxies or not _in(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def _in(ip: str, networks: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
        return any(address in ipaddress.ip_network(net, strict=False) for net in networks)
    except ValueError:
        return False
