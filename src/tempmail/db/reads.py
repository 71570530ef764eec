"""The hot reads, straight on the drivers: the pages every client polls all day.

A bot waiting for a code polls `/api/mails` every second or two, so this path is the product's
inner loop. Its statements are SQLAlchemy Core, built once from the tables and compiled once per
dialect, but they run on the driver underneath rather than through the async engine, which for
one SELECT costs a greenlet switch, a thread hop to aiosqlite and another for the rollback that
closes the connection, and on PostgreSQL a ping on checkout:

- SQLite: stdlib `sqlite3` connections, one per thread, in autocommit mode (each SELECT is its
  own read transaction: WAL readers never wait for the writer, and no snapshot lingers to hold
  back checkpoints). Bounded statements run on the event loop's thread; others take one hop to
  a small pool, however many statements the call runs (see `Reads.fetch_all`).
- PostgreSQL: an asyncpg pool of its own; asyncpg prepares each statement once per connection,
  and timestamps come back as text, the `YYYY-MM-DD HH:MM:SS` the API answers. Its sessions
  use generic plans (`plan_cache_mode`): left to choose, PostgreSQL re-planned the user's page
  on every execution once the table held a million mails (0.4 ms of planning for 0.2 ms of
  execution: the page's p99 doubled from 10 k mails), for the same plan the generic one is.
  These statements are keyed lookups and index walks whose best plan does not depend on the
  values.

Rows are plain tuples in the statement's column order.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import ClauseElement, Select
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.sql.compiler import SQLCompiler

# A statement and its parameters by bind name.
Query = tuple[Select[Any], Mapping[str, Any]]
Rows = list[tuple[Any, ...]]

SQLITE_READ_THREADS = 4
# Errors after which a PostgreSQL read is tried once more on another connection: the server
# restarted, or the connection was dropped while idle in the pool.
_PG_CONNECTION_LOST = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    ConnectionError,
)


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    # Bind names in the order of the SQL's positional placeholders.
    order: tuple[str, ...]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.order]


def compile_for(statement: ClauseElement, dialect: Dialect) -> Compiled:
    """The SQL of a Core statement for a positional-parameter driver, and its bind order."""
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler), "a DML or SELECT statement"
    return Compiled(compiled.string, tuple(compiled.positiontup or ()))


class CompiledStatements:
    """Each Core statement compiled once for the dialect, keyed by the statement object (the
    callers' statements are module constants)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[int, tuple[Select[Any], Compiled]] = {}

    def __getitem__(self, statement: Select[Any]) -> Compiled:
        hit = self._compiled.get(id(statement))
        if hit is not None and hit[0] is statement:
            return hit[1]
        result = compile_for(statement, self.dialect)
        self._compiled[id(statement)] = (statement, result)
        return result


class Reads(ABC):
    """Run read-only statements on the database's own driver (see the module's docstring)."""

    async def fetch(self, statement: Select[Any], params: Mapping[str, Any], quick: bool = False) -> Rows:
        (rows,) = await self.fetch_all([(statement, params)], quick)
        return rows

    @abstractmethod
    async def fetch_all(self, queries: Sequence[Query], quick: bool = False) -> list[Rows]:
        """Each query's rows, run one after the other on one connection.

        `quick`: the caller knows the statements are bounded (an index lookup, a page of one
        address's mail and its count), so SQLite runs them on the calling thread. A hop to a
        thread costs more than such a query: the loop and the reader then contend for the
        GIL, which tripled the page's p99 under load. Anything that may scan a large part of
        a table (every mail's count) goes to the pool, so it never stalls the event loop.
        """

    @abstractmethod
    async def close(self) -> None: ...


class SqliteReads(Reads):
    def __init__(self, path: str, dialect: Dialect, threads: int = SQLITE_READ_THREADS) -> None:
        self.path = path
        self.statements = CompiledStatements(dialect)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlite-read")

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _run(self, queries: Sequence[tuple[Compiled, list[Any]]]) -> list[Rows]:
        conn = self._connection()
        return [conn.execute(compiled.sql, arguments).fetchall() for compiled, arguments in queries]

    async def fetch_all(self, queries: Sequence[Query], quick: bool = False) -> list[Rows]:
        prepared = []
        for statement, params in queries:
            compiled = self.statements[statement]
            prepared.append((compiled, compiled.arguments(params)))
        if quick:
            return self._run(prepared)
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, prepared)

    async def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


async def _text_timestamps(conn: asyncpg.Connection) -> None:
    """Timestamps as the API shows them: asyncpg's text form, whole seconds."""
    for name in ("timestamp", "timestamptz"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=str, decoder=_whole_seconds, format="text"
        )


def _whole_seconds(text: str) -> str:
    return text[:19]


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """The pool's reset of a connection it takes back. asyncpg's own sends `RESET ALL`, `UNLISTEN
    *`, `CLOSE ALL` and an advisory unlock: a second round trip per page, a sixth of a worker's
    time on `/api/mails` by py-spy. These connections run only the read statements of this
    module (no SET, LISTEN, cursor or lock); an open transaction, which they never have either,
    is still rolled back by asyncpg before this is called."""


class PostgresReads(Reads):
    def __init__(self, pool: asyncpg.Pool, dialect: Dialect) -> None:
        self.pool = pool
        self.statements = CompiledStatements(dialect)

    @classmethod
    async def open(cls, url: str, dialect: Dialect, size: int) -> PostgresReads:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=max(1, size),
            init=_text_timestamps,
            reset=_nothing_to_reset,
            server_settings={"plan_cache_mode": "force_generic_plan"},
        )
        return cls(pool, dialect)

    async def _run(self, queries: Sequence[Query]) -> list[Rows]:
        async with self.pool.acquire() as conn:
            results = []
            for statement, params in queries:
                compiled = self.statements[statement]
                records = await conn.fetch(compiled.sql, *compiled.arguments(params))
                results.append([tuple(record) for record in records])
            return results

    async def fetch_all(self, queries: Sequence[Query], quick: bool = False) -> list[Rows]:
        try:
            return await self._run(queries)
        except _PG_CONNECTION_LOST:
            return await self._run(queries)

    async def close(self) -> None:
        await self.pool.close()
