"""`/admin/db_usage`: the database's size, the room left on the SQLite file's disk, the mail
count; admin only."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support import Server

ADMIN_TEXT = "You need to provide the admin password to access this page"


def test_usage_needs_the_admin(server: Server) -> None:
    response = server.client.get("/admin/db_usage")
    assert (response.status_code, response.text) == (401, ADMIN_TEXT)


def test_usage_reports_size_room_and_mails(server: Server) -> None:
    created = server.new_address()
    before = server.admin("GET", "/admin/db_usage").json()
    server.send(created["address"], "Subject: counted\r\n\r\nhello")
    after = server.admin("GET", "/admin/db_usage").json()

    assert set(after) == {"backend", "databaseSize", "diskFree", "diskTotal", "mailCount"}
    assert after["backend"] == server.backend
    assert after["mailCount"] == before["mailCount"] + 1
    assert after["mailCount"] == server.admin("GET", "/admin/statistics").json()["mailCount"]
    assert after["databaseSize"] > 0
    if server.backend == "sqlite":
        # The disk the database file lives on, as the operating system reports it.
        disk = shutil.disk_usage(Path(server.db.url.removeprefix("sqlite:///")).parent)
        assert after["diskTotal"] == disk.total
        assert 0 < after["diskFree"] <= after["diskTotal"]
        assert after["databaseSize"] == server.admin("GET", "/admin/db_version").json()["database_size"]
    else:
        # PostgreSQL's disks belong to its server: only the size it reports is known.
        assert (after["diskFree"], after["diskTotal"]) == (None, None)
