"""COMPAT §3 and §24: the `/open_api/*` logins and the corrected `/open_api/settings` values."""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
import pytest

from tests.conftest import ServerFactory
from tests.support import ADMIN_PASSWORD, JWT_SECRET, Server

SITE_PASSWORDS = '["site-one", "site-two"]'
PROXY = '{"smtp": {"host": "proxy.test.example"}, "imap": {"host": "proxy.test.example"}}'


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def site(make_server: ServerFactory) -> Server:
    return make_server(
        PASSWORDS=SITE_PASSWORDS,
        PREFIX=" TmP ",
        DEFAULT_DOMAINS="[]",
        SMTP_IMAP_PROXY_CONFIG=PROXY,
        ENABLE_INDEX_ABOUT="true",
        DISABLE_SHOW_GITHUB="true",
        ENABLE_AGENT_EMAIL_INFO="true",
        CF_TURNSTILE_SITE_KEY="site-key",
    )


def post(server: Server, path: str, body: Any) -> tuple[int, Any]:
    response = server.client.post(path, json=body)
    return response.status_code, response.json() if response.status_code == 200 else response.text


def test_site_login(site: Server) -> None:
    assert post(site, "/open_api/site_login", {"password": sha("site-two")}) == (200, {"success": True})
    refused = (401, "You have enabled the private site password, please provide the password")
    assert post(site, "/open_api/site_login", {"password": "site-two"}) == refused, "the hex, not the text"
    assert post(site, "/open_api/site_login", {"password": sha("wrong")}) == refused
    assert post(site, "/open_api/site_login", {}) == refused
    assert post(site, "/open_api/site_login", {"password": 5}) == refused


def test_site_login_without_site_passwords(server: Server) -> None:
    status, text = post(server, "/open_api/site_login", {"password": sha("")})
    assert (status, text) == (401, "You have enabled the private site password, please provide the password")


def test_site_login_in_chinese(site: Server) -> None:
    response = site.client.post("/open_api/site_login", json={}, headers={"x-lang": "zh"})
    assert (response.status_code, response.text) == (401, "你已启用私有站点密码,请提供密码")


def test_admin_login(site: Server) -> None:
    assert post(site, "/open_api/admin_login", {"password": sha(ADMIN_PASSWORD)}) == (200, {"success": True})
    refused = (401, "You need to provide the admin password to access this page")
    assert post(site, "/open_api/admin_login", {"password": ADMIN_PASSWORD}) == refused
    assert post(site, "/open_api/admin_login", {"password": sha("site-one")}) == refused
    assert post(site, "/open_api/admin_login", {"cf_token": "x"}) == refused


def test_admin_login_with_password_check_disabled_and_no_password(make_server: ServerFactory) -> None:
    open_admin = make_server(ADMIN_PASSWORDS="", DISABLE_ADMIN_PASSWORD_CHECK="true")
    status, text = post(open_admin, "/open_api/admin_login", {"password": sha("")})
    assert (status, text) == (401, "You need to provide the admin password to access this page")


def test_credential_login(site: Server) -> None:
    good = jwt.encode({"address": "nobody@test.example", "address_id": 0}, JWT_SECRET, algorithm="HS256")
    assert post(site, "/open_api/credential_login", {"credential": good}) == (200, {"success": True})
    refused = (401, "Invalid address credential")
    other_secret = "another-secret-of-thirty-two-bytes-or-more"
    forged = jwt.encode({"address": "a@test.example"}, other_secret, algorithm="HS256")
    empty = jwt.encode({"address": ""}, JWT_SECRET, algorithm="HS256")
    for credential in (forged, empty, "not a jwt", None):
        assert post(site, "/open_api/credential_login", {"credential": credential}) == refused


def test_open_api_needs_no_site_password(site: Server) -> None:
    assert site.client.get("/api/settings").status_code == 401
    assert site.client.get("/open_api/settings").status_code == 200


def test_settings_values(site: Server) -> None:
    settings = site.client.get("/open_api/settings").json()
    assert settings["prefix"] == "tmp"
    assert settings["version"] == "v1.12.0"
    assert settings["addressRegex"] == ""
    assert settings["defaultDomains"] == ["test.example", "example.org"]
    assert settings["smtpImapProxyConfig"] == {
        "smtp": {"host": "proxy.test.example", "port": 8025, "starttls": False},
        "imap": {"host": "proxy.test.example", "port": 11143, "starttls": False},
    }
    assert settings["enableIndexAbout"] is True
    assert (settings["showGithub"], settings["showGithubForUser"]) == (False, True)
    assert settings["enableAgentEmailInfo"] is True
    assert settings["cfTurnstileSiteKey"] == "site-key"
    assert settings["enableGlobalTurnstileCheck"] is False
    assert settings["enableSendMail"] is False
    assert settings["needAuth"] is True


def test_settings_defaults(server: Server) -> None:
    settings = server.client.get("/open_api/settings").json()
    assert settings["prefix"] == ""
    assert settings["smtpImapProxyConfig"] == {
        "smtp": {"host": "", "port": 8025, "starttls": False},
        "imap": {"host": "", "port": 11143, "starttls": False},
    }
    assert (settings["showGithub"], settings["showGithubForUser"]) == (True, True)
    assert settings["enableIndexAbout"] is False


def test_configured_address_regex_is_reported(make_server: ServerFactory) -> None:
    custom = make_server(ADDRESS_REGEX="[^a-z0-9.]")
    assert custom.client.get("/open_api/settings").json()["addressRegex"] == "[^a-z0-9.]"
