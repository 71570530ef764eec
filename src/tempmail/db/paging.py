"""The paging every list endpoint shares: `{results, count}`, count only on the first page.

Clients skip counting on later pages (the reference answers `count: 0` there), and so do we:
a count is the one part of a page whose cost grows with the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    results: list[T]
    count: int


async def fetch_page(engine: AsyncEngine, query: Select[Any], limit: int, offset: int) -> Page[Any]:
    """Run `query` (already ordered) for one page, and count its rows when offset is 0."""
    async with engine.connect() as conn:
        rows = list((await conn.execute(query.limit(limit).offset(offset))).all())
        count = 0
        if offset == 0:
            counting = query.with_only_columns(func.count(), maintain_column_froms=True)
            count = int(await conn.scalar(counting.order_by(None)) or 0)
    return Page(rows, count)


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """`column LIKE %text%` with the LIKE wildcards in `text` taken literally (search boxes)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]
