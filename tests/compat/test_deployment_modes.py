"""The reference's deployment modes that are a matter of configuration (issue 14, must-have 5):
a second HTTP origin, on the same database, that lets addresses be made on subdomains; and the
"everything off" configuration, where each switched-off feature answers as the reference does.
(The SEND_MAIL-domain configuration is pinned in test_sending.py, gzip-stored mails in
test_mail_rows.py.)
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Callable, Mapping

import pytest

from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, JWT_SECRET, Server

FreshServer = Callable[..., Server]
MAIL = b"From: someone@remote.example\r\nSubject: to a subdomain\r\n\r\nhello\r\n"


def test_a_second_origin_creates_addresses_on_subdomains(make_server: ServerFactory) -> None:
    """The reference's subdomain worker: a second deployment over the same data, with subdomain
    creation on. Its addresses are read through either origin with the same credential."""
    main = make_server(TITLE="deployment-main")
    subdomains = Server(
        main.backend, {"TITLE": "deployment-sub", "ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH": "true"}
    )
    subdomains.env["DATABASE_URL"] = main.db.url
    try:
        subdomains.start()
        name = f"s{uuid.uuid4().hex[:8]}"
        refused = main.client.post("/api/new_address", json={"name": name, "domain": "team.test.example"})
        assert (refused.status_code, refused.text) == (400, "Failed to create address: Invalid domain")
        created = subdomains.new_address(name, domain="team.test.example")
        assert created["address"] == f"{name}@team.test.example"
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            main.send(created["address"], MAIL)
        subdomains.send(created["address"], MAIL)
        for origin in (main, subdomains):
            assert origin.mails(created["jwt"])["count"] == 1
    finally:
        subdomains.close()


EVERYTHING_OFF: Mapping[str, str] = {
    "DOMAINS": '["test.example"]',
    "ADMIN_PASSWORDS": ADMIN_PASSWORD,
    "JWT_SECRET": JWT_SECRET,
    "LOG_LEVEL": "warning",
}


def test_everything_off(fresh_server: FreshServer) -> None:
    """No feature variable set: the admin still creates addresses and mail still arrives, and
    every switched-off route answers the reference's text."""
    server = fresh_server(EVERYTHING_OFF, base=False)
    settings = server.client.get("/open_api/settings").json()
    for key in ("enableUserCreateEmail", "enableUserDeleteEmail", "enableAutoReply", "enableWebhook"):
        assert settings[key] is False, key
    assert settings["enableAddressPassword"] is False and settings["enableSendMail"] is False

    anonymous = server.client.post("/api/new_address", json={"name": "nobody"})
    assert (anonymous.status_code, anonymous.text) == (
        403,
        "New address is disabled, please contact the administrator",
    )
    created = server.admin("POST", "/admin/new_address", json={"name": "off", "domain": "test.example"})
    assert created.status_code == 200, created.text
    address, jwt = created.json()["address"], created.json()["jwt"]
    assert created.json()["password"] is None
    server.send(address, MAIL)
    assert server.mails(jwt)["count"] == 1

    refusals = [
        (
            "DELETE",
            "/api/clear_inbox",
            None,
            403,
            "User delete address/email is disabled, please contact the administrator",
        ),
        ("GET", "/api/auto_reply", None, 403, "Auto reply is disabled"),
        (
            "GET",
            "/api/webhook/settings",
            None,
            403,
            "Webhook is not enabled, please contact the administrator",
        ),
        (
            "POST",
            "/api/send_mail",
            {"to_mail": "x@remote.example", "subject": "s", "content": "c"},
            400,
            "Failed to send mail No balance",
        ),
    ]
    for method, path, body, status, text in refusals:
        response = server.with_jwt(method, path, jwt, json=body)
        assert (response.status_code, response.text) == (status, text), path
    login = server.client.post("/api/address_login", json={"email": address, "password": "x"})
    assert (login.status_code, login.text) == (403, "Password login is disabled")
    register = server.client.post("/user_api/register", json={"email": "a@remote.example", "password": "p"})
    assert (register.status_code, register.text) == (
        403,
        "User registration is disabled, please contact the administrator",
    )
    seed = server.admin("POST", "/admin/test/seed_mail", json={"address": address, "raw": "x"})
    assert (seed.status_code, seed.text) == (404, "Not available")
    telegram = server.client.post("/telegram/get_bind_address", json={})
    assert (telegram.status_code, telegram.text) == (400, "TELEGRAM_BOT_TOKEN is required")
