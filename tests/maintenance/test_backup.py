"""`tempmail backup` / `tempmail restore` as an operator runs them: a backup taken while a real
server takes mail, a damaged database, the restore, and the server serving the backup's data
again; then the refusals, each one line on stderr with exit code 1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory

from tempmail.db.engine import MIGRATIONS_DIR, Database
from tests.accounts.test_user_accounts import email, register
from tests.support import PG_START, ScratchDatabase, Server, pg_available, upgrade_to

PG_TOOLS_FIX = "apt-get install postgresql-client"
# The latest migration, as the migrations folder says.
HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
# An account setting changed through the admin API (with the keys the reference requires).
ACCOUNT_SETTINGS = {
    "blockList": ["blocked"],
    "sendBlockList": [],
    "verifiedAddressList": [],
    "fromBlockList": ["spammer.example"],
}


def tempmail(*args: str, url: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real command, with nothing of the developer's environment but DATABASE_URL."""
    env = {k: v for k, v in os.environ.items() if not k.isupper() or k in ("HOME", "LANG", "PYTHONPATH")}
    env.update(PATH=os.environ["PATH"] if path is None else path, DATABASE_URL=url, LOG_LEVEL="warning")
    return subprocess.run(
        [sys.executable, "-m", "tempmail", *args], env=env, capture_output=True, text=True, timeout=120
    )


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit code 1 and exactly one line of ours on stderr, no traceback."""
    ours = [line for line in result.stderr.splitlines() if line.startswith("tempmail: ")]
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(ours) == 1, result.stderr
    for word in words:
        assert word in ours[0], ours[0]


@pytest.fixture
def pg_tools(backend: str) -> None:
    """The PostgreSQL round trip needs pg_dump and pg_restore: fail with the fix, never skip."""
    if backend != "postgresql":
        return
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not on PATH: {PG_TOOLS_FIX}")


def raw_mail(subject: str) -> str:
    return (
        f"From: =?utf-8?q?J=C3=BCrgen?= <j@remote.example>\r\n"
        f"Subject: {subject} Grüße\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@remote.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{subject}: Grüße aus München — 你好\r\n"
        "  trailing spaces and a lone dot line follow  \r\n"
        ".\r\n"
        "end\r\n"
    )


def snapshot(server: Server, addresses: list[dict[str, Any]], user_jwt: str) -> dict[str, Any]:
    """Everything the round trip must bring back, as the HTTP API shows it."""
    mails = {
        a["address"]: [(m["id"], m["raw"]) for m in server.mails(a["jwt"], limit=100)["results"]]
        for a in addresses
    }
    bound = server.user("GET", "/user_api/bind_address?limit=100&offset=0", user_jwt)
    users = server.admin("GET", "/admin/users?limit=100&offset=0")
    settings = server.admin("GET", "/admin/account_settings")
    assert bound.status_code == users.status_code == settings.status_code == 200
    return {
        "mails": mails,
        "bound": sorted(row["name"] for row in bound.json()["results"]),
        "users": sorted(row["user_email"] for row in users.json()["results"]),
        "settings": settings.json(),
    }


def restart(server: Server) -> None:
    server.start()
    server.client = httpx.Client(base_url=server.base_url, timeout=30)


def test_backup_while_serving_then_restore(backend: str, pg_tools: None, tmp_path: Path) -> None:
    server = Server(backend).start()
    try:
        addresses = [server.new_address(), server.new_address()]
        user_email = email()
        user_jwt = register(server, user_email)
        bind = server.client.post(
            "/user_api/bind_address",
            headers={"x-user-token": user_jwt, "Authorization": f"Bearer {addresses[0]['jwt']}"},
        )
        assert bind.status_code == 200, bind.text
        sent = {a["address"]: [raw_mail(f"mail {i} to {a['address']}") for i in range(3)] for a in addresses}
        for address, raws in sent.items():
            for raw in raws:
                server.send(address, raw.encode("utf-8"))
        saved = server.admin("POST", "/admin/account_settings", json=ACCOUNT_SETTINGS)
        assert saved.status_code == 200, saved.text
        before = snapshot(server, addresses, user_jwt)
        for address, raws in sent.items():
            assert sorted(raw for _, raw in before["mails"][address]) == sorted(raws), "byte-exact raw"
        assert before["bound"] == [addresses[0]["address"]] and user_email in before["users"]
        assert before["settings"]["fromBlockList"] == ["spammer.example"]

        backup_file = tmp_path / "tempmail.backup"
        made = tempmail("backup", str(backup_file), url=server.db.url)
        assert made.returncode == 0, made.stderr
        assert backup_file.stat().st_size > 0
        # After the backup: must be gone once it is restored.
        server.send(addresses[1]["address"], raw_mail("after the backup").encode("utf-8"))

        refused = tempmail("restore", str(backup_file), url=server.db.url)
        if backend == "sqlite":
            assert_refused(refused, "in use", "stop it first")
        else:
            assert_refused(refused, "other session", "stop the servers first")

        assert server.stop() == 0
        server.db.sql("DELETE FROM raw_mails")
        server.db.sql("DELETE FROM users_address")
        server.db.sql("DELETE FROM settings WHERE key NOT LIKE '%secret%' AND key NOT LIKE '%password%'")
        restored = tempmail("restore", str(backup_file), url=server.db.url)
        assert restored.returncode == 0, restored.stderr
        assert "restored" in restored.stdout

        restart(server)
        assert snapshot(server, addresses, user_jwt) == before
        if backend == "sqlite":
            folder = Path(server.db.url.removeprefix("sqlite:///")).parent
            assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")], "no temporary left"
    finally:
        server.close()


def test_restore_migrates_an_older_backup_and_refuses_a_newer_one(tmp_path: Path) -> None:
    """SQLite: a backup of an older schema (0005, before each address's mail count) is brought
    up to date, its mail counted; one of an unknown (newer) revision is refused before the
    database is touched."""
    db = ScratchDatabase("sqlite")
    try:
        old = tmp_path / "old.db"
        asyncio.run(_older_schema(f"sqlite+aiosqlite:///{old}", "0005"))
        with contextlib.closing(sqlite3.connect(old)) as conn, conn:
            conn.executemany(
                "INSERT INTO raw_mails (address, raw, created_at) VALUES (?, 'x', '2026-12-03 10:00:00')",
                [("a@test.example",), ("a@test.example",), ("b@test.example",)],
            )
        assert tempmail("db", "upgrade", url=db.url).returncode == 0
        restored = tempmail("restore", str(old), url=db.url)
        assert restored.returncode == 0, restored.stderr
        assert f"revision {HEAD}" in restored.stdout
        assert db.sql("SELECT version_num FROM alembic_version") == [(HEAD,)]
        assert sorted(db.sql("SELECT address, mails FROM mail_counts")) == [
            ("a@test.example", 2),
            ("b@test.example", 1),
        ]

        newer = tmp_path / "newer.db"
        shutil.copy(old, newer)
        with contextlib.closing(sqlite3.connect(newer)) as conn, conn:
            conn.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
        db.sql(
            "INSERT INTO settings (key, value, created_at, updated_at) VALUES ('kept', 'yes', ?, ?)",
            "2026-01-01 00:00:00",
            "2026-01-01 00:00:00",
        )
        assert_refused(tempmail("restore", str(newer), url=db.url), "newer tempmail", "ffff_from_the_future")
        assert db.sql("SELECT value FROM settings WHERE key = 'kept'") == [("yes",)], "untouched"
    finally:
        db.drop()


def test_backup_refusals_are_one_line(tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path}/tempmail.db"
    assert_refused(tempmail("backup", str(tmp_path / "b.db"), url=sqlite_url), "no database at")
    (tmp_path / "tempmail.db").write_bytes(b"garbage" * 1000)
    assert_refused(tempmail("backup", str(tmp_path / "b.db"), url=sqlite_url), "not a SQLite database")
    assert_refused(tempmail("backup", str(tmp_path / "no" / "b.db"), url=sqlite_url), "no folder")
    assert not (tmp_path / "b.db").exists()


def test_restore_refusals_are_one_line(tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path}/tempmail.db"
    assert_refused(tempmail("restore", str(tmp_path / "missing.db"), url=sqlite_url), "no backup file")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all\n" * 100)
    assert_refused(tempmail("restore", str(junk), url=sqlite_url), "not a SQLite database")
    archive = tmp_path / "pg.dump"
    archive.write_bytes(b"PGDMP\x01\x0f\x00" + b"\x00" * 100)
    assert_refused(tempmail("restore", str(archive), url=sqlite_url), "PostgreSQL archive", "SQLite")
    assert tempmail("db", "upgrade", url=sqlite_url).returncode == 0
    assert_refused(tempmail("restore", str(tmp_path / "tempmail.db"), url="sqlite:///:memory:"), "in-memory")


@pytest.mark.postgresql
def test_postgresql_refusals_are_one_line(tmp_path: Path) -> None:
    reason = pg_available()
    if reason is not None:
        pytest.fail(f"{reason}; start it ({PG_START}) or deselect these runs with -m 'not postgresql'")
    db = ScratchDatabase("postgresql")
    try:
        sqlite_file = tmp_path / "tempmail.db"
        sqlite_file.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
        assert_refused(tempmail("restore", str(sqlite_file), url=db.url), "SQLite database", "PostgreSQL")
        junk = tmp_path / "junk"
        junk.write_text("hello\n")
        assert_refused(tempmail("restore", str(junk), url=db.url), "not a pg_dump")
        # Without the client tools: the fix and the command to run by hand.
        no_tools = tempmail("backup", str(tmp_path / "b.dump"), url=db.url, path="/nonexistent")
        assert_refused(no_tools, "pg_dump not found", PG_TOOLS_FIX, "pg_dump --format=custom")
    finally:
        db.drop()


async def _older_schema(url: str, revision: str) -> None:
    """A database made by the migrations up to `revision` only, as an older tempmail made it."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: upgrade_to(sync, revision))
    finally:
        await db.close()
