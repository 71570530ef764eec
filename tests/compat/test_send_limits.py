"""COMPAT §6.3 (and §12/§13 of the summary): the server's send quota as the reference keeps it —
`{dailyEnabled, monthlyEnabled, dailyLimit, monthlyLimit}`, -1 unlimited, a disabled limit stored
as null, counters in `send_mail_limit_count:daily:YYYY-MM-DD` / `…:monthly:YYYY-MM` (UTC), checked
before sending and counted after a successful send only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.compat.sending_support import REQUIRED, recording_relay, relay_env
from tests.conftest import ServerFactory
from tests.fakes.smtp_sink import SmtpSink
from tests.support import Server


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    yield from recording_relay()


OFF = {"dailyEnabled": False, "monthlyEnabled": False}


def quota_server(make_server: ServerFactory, sink: SmtpSink, title: str) -> Server:
    return make_server(**relay_env(sink, TITLE=title, DEFAULT_SEND_BALANCE="100"))


def set_limits(server: Server, limits: Any) -> tuple[int, str]:
    body = {**REQUIRED, "sendMailLimitConfig": limits}
    response = server.admin("POST", "/admin/account_settings", json=body)
    return response.status_code, response.text


def send(server: Server, jwt: str, **overrides: Any) -> tuple[int, str]:
    body = {"to_mail": "bob@remote.example", "subject": f"q {uuid.uuid4().hex[:6]}", "content": "hi"}
    response = server.with_jwt("POST", "/api/send_mail", jwt, json={**body, **overrides})
    return response.status_code, response.text


def counter(server: Server, key: str) -> str | None:
    rows = server.db.sql("SELECT value FROM settings WHERE key = ?", key)
    return str(rows[0][0]) if rows else None


def today() -> tuple[str, str]:
    now = datetime.now(UTC)
    return (
        f"send_mail_limit_count:daily:{now:%Y-%m-%d}",
        f"send_mail_limit_count:monthly:{now:%Y-%m}",
    )


def test_saved_form_and_null_when_never_set(make_server: ServerFactory, sink: SmtpSink) -> None:
    server = quota_server(make_server, sink, "compat-quota-shape")
    assert server.admin("GET", "/admin/account_settings").json()["sendMailLimitConfig"] is None
    limits = {"dailyEnabled": False, "monthlyEnabled": True, "dailyLimit": 5, "monthlyLimit": -1}
    assert set_limits(server, limits)[0] == 200
    assert server.admin("GET", "/admin/account_settings").json()["sendMailLimitConfig"] == {
        "dailyEnabled": False,
        "monthlyEnabled": True,
        "dailyLimit": None,
        "monthlyLimit": -1,
    }


@pytest.mark.parametrize(
    "limits",
    [
        {"dailyEnabled": "true", "monthlyEnabled": False},
        {"dailyEnabled": True},
        {"dailyEnabled": True, "monthlyEnabled": False},
        {"dailyEnabled": True, "monthlyEnabled": False, "dailyLimit": None},
        {"dailyEnabled": True, "monthlyEnabled": False, "dailyLimit": -2},
        {"dailyEnabled": True, "monthlyEnabled": False, "dailyLimit": 1.5},
        {"dailyEnabled": True, "monthlyEnabled": False, "dailyLimit": "5"},
        {"dailyEnabled": False, "monthlyEnabled": False, "monthlyLimit": "x"},
        {"dailyEnabled": False, "monthlyEnabled": False, "monthlyLimit": [1]},
        None,
        [],
    ],
)
def test_invalid_limits_save_nothing(make_server: ServerFactory, sink: SmtpSink, limits: Any) -> None:
    server = quota_server(make_server, sink, "compat-quota-invalid")
    good = {"dailyEnabled": True, "monthlyEnabled": False, "dailyLimit": 9}
    assert set_limits(server, good)[0] == 200
    body = {**REQUIRED, "blockList": ["changed"], "sendMailLimitConfig": limits}
    response = server.admin("POST", "/admin/account_settings", json=body)
    assert (response.status_code, response.text) == (400, "Invalid input")
    got = server.admin("GET", "/admin/account_settings").json()
    assert got["blockList"] == [] and got["sendMailLimitConfig"]["dailyLimit"] == 9


def test_daily_limit_counts_successes_only(make_server: ServerFactory, sink: SmtpSink) -> None:
    server = quota_server(make_server, sink, "compat-quota-daily")
    daily, monthly = today()
    jwt = server.new_address()["jwt"]
    server.db.sql(
        "INSERT INTO settings (key, value, created_at, updated_at) VALUES (?, '7', ?, ?)",
        "send_mail_limit_count:daily:2000-01-01",
        *([datetime(2000, 1, 1)] * 2 if server.backend == "postgresql" else ["2000-01-01 00:00:00"] * 2),
    )
    assert set_limits(server, {"dailyEnabled": True, "monthlyEnabled": True, "dailyLimit": 2})[0] == 400
    assert (
        set_limits(
            server, {**OFF, "dailyEnabled": True, "monthlyEnabled": True, "dailyLimit": 2, "monthlyLimit": -1}
        )[0]
        == 200
    )
    assert send(server, jwt, subject="")[0] == 400  # refused: uses no quota
    assert counter(server, daily) is None
    assert send(server, jwt)[0] == 200
    assert (counter(server, daily), counter(server, monthly)) == ("1", "1")
    assert counter(server, "send_mail_limit_count:daily:2000-01-01") is None  # past days go
    assert send(server, jwt)[0] == 200
    assert send(server, jwt) == (400, "Failed to send mail Server daily send quota has been reached")
    zh = server.with_jwt(
        "POST",
        "/api/send_mail",
        jwt,
        json={"to_mail": "bob@remote.example", "subject": "s", "content": "c"},
        headers={"x-lang": "zh"},
    )
    assert (zh.status_code, zh.text) == (400, "Failed to send mail 服务器今日发信次数已达上限")
    assert (counter(server, daily), counter(server, monthly)) == ("2", "2")
    assert set_limits(server, {**OFF, "monthlyEnabled": True, "monthlyLimit": -1})[0] == 200
    assert send(server, jwt)[0] == 200
    assert (counter(server, daily), counter(server, monthly)) == ("2", "3")  # only enabled ones count


def test_monthly_limit_and_zero(make_server: ServerFactory, sink: SmtpSink) -> None:
    server = quota_server(make_server, sink, "compat-quota-monthly")
    jwt = server.new_address()["jwt"]
    assert set_limits(server, {**OFF, "monthlyEnabled": True, "monthlyLimit": 0})[0] == 200
    assert send(server, jwt) == (400, "Failed to send mail Server monthly send quota has been reached")
    balance = server.with_jwt("GET", "/api/settings", jwt).json()["send_balance"]
    assert balance == 100  # a refused send costs no balance either
    assert set_limits(server, {**OFF, "monthlyEnabled": True, "monthlyLimit": 1})[0] == 200
    assert send(server, jwt)[0] == 200
    assert send(server, jwt) == (400, "Failed to send mail Server monthly send quota has been reached")
