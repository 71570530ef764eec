"""The database as the operator sees it: health, counters, schema version and upkeep.

Routes reach the engine only through here (`/health_check`, `/admin/statistics`,
`/admin/db_*`), and the hourly job calls `maintain`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tempmail.accounts.addresses import DOMAINS_NOT_SET
from tempmail.config import Settings
from tempmail.db.addresses import statistics
from tempmail.db.engine import Database
from tempmail.errors import ApiError

# The cloudflare_temp_email schema version our latest migration matches (COMPAT §5).
REFERENCE_DB_VERSION = "v0.0.7"
UNREACHABLE = "Database is not reachable: {reason}"


# How long a ping's answer stands for the health check: monitors and load balancers may poll it
# as fast as they like, and the database sees at most one ping a second from each process.
HEALTH_PING_SECONDS = 1.0


class DatabaseService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        # (when, the failure's name or None) of the last ping, and the ping under way.
        self._last_ping: tuple[float, str | None] = (-HEALTH_PING_SECONDS, None)
        self._ping: asyncio.Task[str | None] | None = None

    async def health(self) -> str:
        """`OK` when the database answers and mail has somewhere to go."""
        if not self.settings.DOMAINS:
            raise ApiError(400, DOMAINS_NOT_SET)
        failure = await self._reachability()
        if failure is not None:
            raise ApiError(400, UNREACHABLE, reason=failure)
        return "OK"

    async def _reachability(self) -> str | None:
        """The last ping's verdict while it is fresh; else one ping, shared by every request
        that asks while it runs."""
        when, failure = self._last_ping
        if time.monotonic() - when < HEALTH_PING_SECONDS:
            return failure
        if self._ping is None or self._ping.done():
            self._ping = asyncio.create_task(self._ping_once())
        return await asyncio.shield(self._ping)

    async def _ping_once(self) -> str | None:
        try:
            await self.db.ping()
        except Exception as exc:
            failure: str | None = type(exc).__name__
        else:
            failure = None
        self._last_ping = (time.monotonic(), failure)
        return failure

    async def statistics(self) -> dict[str, int]:
        return await statistics(self.db.engine)

    async def initialize(self) -> str:
        current, _ = await self.db.version()
        if current is not None:
            return "Database already initialized"
        await self.db.upgrade()
        return "Database initialized"

    async def migrate(self) -> str:
        current, head = await self.db.version()
        if current == head:
            return "Database does not need migration"
        await self.db.upgrade()
        return "Database migrated"

    async def version(self) -> dict[str, Any]:
        """The reference's schema version strings, which its admin page compares: a database at
        our latest migration has the reference's current schema (`v0.0.7`). Our own migration
        id is shown only while one is behind, as the version that needs migrating."""
        current, head = await self.db.version()
        reported = REFERENCE_DB_VERSION if current is not None and current == head else current
        return {
            "need_initialization": current is None,
            "need_migration": current is not None and current != head,
            "current_db_version": reported,
            "code_db_version": REFERENCE_DB_VERSION,
            "database_size": await self.db.size_bytes(),
        }

    async def usage(self) -> dict[str, Any]:
        """How big the database is and how much room it has left: its size, the free and total
        bytes of the disk under the SQLite file (null on PostgreSQL, whose disks the server
        cannot see), and the mail count. The reference's D1 had a fixed quota; here the disk is
        the limit."""
        space = self.db.disk_space()
        return {
            "backend": self.db.dialect,
            "databaseSize": await self.db.size_bytes(),
            "diskFree": space[0] if space is not None else None,
            "diskTotal": space[1] if space is not None else None,
            "mailCount": (await self.statistics())["mailCount"],
        }

    async def maintain(self) -> None:
        await self.db.maintain()
