"""The floor of the page figures: the page tempmail serves at `GET /api/mails`, with nothing
but Starlette, the stdlib `sqlite3` module and the very same database file.

`{"results": [rows], "count": N}` for the address named by the `x-bench-address` header: the
newest `limit` rows from `offset` (query parameters, default 20 and 0) and the count of that
address's mails. Without the header it is the page of every mail (what `/admin/mails` shows).
There is no auth, no pool, no thread hop (the queries run right in the async endpoint, on one
read-only connection): what is left is the least such a page can cost in Python.

    BENCH_SQLITE_PATH=/path/to/tempmail.db \
        uvicorn --app-dir bench/floors page:app --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

COLUMNS = "id, message_id, source, address, raw, metadata, created_at"
PAGE_OF_ADDRESS = f"SELECT {COLUMNS} FROM raw_mails WHERE address = ? ORDER BY id DESC LIMIT ? OFFSET ?"
COUNT_OF_ADDRESS = "SELECT count(*) FROM raw_mails WHERE address = ?"
PAGE_OF_ALL = f"SELECT {COLUMNS} FROM raw_mails ORDER BY id DESC LIMIT ? OFFSET ?"
COUNT_OF_ALL = "SELECT count(*) FROM raw_mails"


def _connect() -> sqlite3.Connection:
    """Read-only, so the floor can never change what tempmail measures on the same file."""
    path = os.environ["BENCH_SQLITE_PATH"]
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


_db = _connect()


def _int(request: Request, name: str, default: int) -> int:
    try:
        return int(request.query_params.get(name, default))
    except ValueError:
        return default


def _rows(sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cursor = _db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


async def page(request: Request) -> JSONResponse:
    """The page, queried on the event loop's own thread (as blocking as it gets, and cheapest)."""
    limit, offset = _int(request, "limit", 20), _int(request, "offset", 0)
    address = request.headers.get("x-bench-address")
    if address is None:
        results = _rows(PAGE_OF_ALL, (limit, offset))
        count = _db.execute(COUNT_OF_ALL).fetchone()[0]
    else:
        results = _rows(PAGE_OF_ADDRESS, (address, limit, offset))
        count = _db.execute(COUNT_OF_ADDRESS, (address,)).fetchone()[0]
    return JSONResponse({"results": results, "count": count})


app = Starlette(routes=[Route("/{path:path}", page)])
