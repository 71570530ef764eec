"""Ids and paging as every list route takes them, and the `{results, count}` they answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Path, Request

from tempmail.errors import ApiError

INVALID_LIMIT = "Invalid limit"
INVALID_OFFSET = "Invalid offset"

# Ids are BIGINT on PostgreSQL; anything outside would be a database error, so it is bad input.
MAX_ID = 2**63 - 1
MAX_LIMIT = 100

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class PageOfRows(Protocol):
    """A page as the services answer it: the rows, and their count on the first page."""

    @property
    def results(self) -> Sequence[Any]: ...

    @property
    def count(self) -> int: ...


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


def read_paging(
    params: Mapping[str, str], default_limit: int | None = None, default_offset: int | None = None
) -> Paging:
    """`limit` 1..100 and `offset` >= 0, as integers, else the spec's 400 texts; a default
    stands in for a parameter that is absent (not for one that is given but bad)."""
    limit = _int_param(params.get("limit")) if "limit" in params else default_limit
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, INVALID_LIMIT)
    offset = _int_param(params.get("offset")) if "offset" in params else default_offset
    if offset is None or not 0 <= offset <= MAX_ID:
        raise ApiError(400, INVALID_OFFSET)
    return Paging(limit, offset)


async def paging(request: Request) -> Paging:
    """Both parameters required."""
    return read_paging(request.query_params)


PagingDep = Annotated[Paging, Depends(paging)]

# The first page's size where both parameters may be left out.
DEFAULT_LIMIT = 20


async def paging_or_first_page(request: Request) -> Paging:
    """Both parameters optional: the first DEFAULT_LIMIT rows when absent (a list the reference
    lets clients ask for bare); a value given is checked as on every list."""
    return read_paging(request.query_params, default_limit=DEFAULT_LIMIT, default_offset=0)


PagingOrFirstPageDep = Annotated[Paging, Depends(paging_or_first_page)]


def page_json(page: PageOfRows, shape: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """`{results, count}` with each row passed through `shape` (default: the row's mapping)."""
    rows = [shape(row) if shape else dict(row._mapping) for row in page.results]
    return {"results": rows, "count": page.count}
