"""The database as the operator sees it: health, counters, schema version and upkeep.

Routes reach the engine only through here (`/health_check`, `/admin/statistics`,
`/admin/db_*`), and the hourly job calls `maintain`.
"""

from __future__ import annotations

from typing import Any

from tempmail.config import Settings
from tempmail.db.addresses import statistics
from tempmail.db.engine import Database
from tempmail.errors import ApiError

# The cloudflare_temp_email schema version our latest migration matches (COMPAT §5).
REFERENCE_DB_VERSION = "v0.0.7"


class DatabaseService:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    async def health(self) -> str:
        """`OK` when the database answers and mail has somewhere to go."""
        if not self.settings.DOMAINS:
            raise ApiError(400, "Domains are not set, please contact the administrator")
        try:
            await self.db.ping()
        except Exception as exc:
            raise ApiError(400, "Database is not reachable: {reason}", reason=type(exc).__name__) from exc
        return "OK"

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

    async def maintain(self) -> None:
        await self.db.maintain()
