"""Other ways in: mailed verification codes, passkeys (a software authenticator signs real
WebAuthn ceremonies) and OAuth2 (a real provider on loopback)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.accounts.test_user_accounts import email, open_registration, register, sha256
from tests.conftest import ServerFactory
from tests.fakes.authenticator import SoftAuthenticator
from tests.fakes.oauth2_provider import OAuth2Provider
from tests.fakes.smtp_sink import SmtpSink
from tests.support import USERS_ENV, Server

ORIGIN = "http://localhost:8787"
SENDER = "noreply@test.example"


# --- verification codes --------------------------------------------------------------------


@pytest.fixture(scope="module")
def relay() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def mailing_server(make_server: ServerFactory, relay: SmtpSink) -> Server:
    """A server whose outbound relay for test.example is the recording sink."""
    config = {"test.example": {"host": "127.0.0.1", "port": relay.port, "secure": False}}
    server = make_server(**USERS_ENV, SMTP_CONFIG=json.dumps(config))
    open_registration(server, enableMailVerify=True, verifyMailSender=SENDER)
    return server


def request_code(server: Server, relay: SmtpSink, address: str) -> str:
    before = len(relay.messages)
    response = server.client.post("/user_api/verify_code", json={"email": address})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "expirationTtl": 300}
    mail = relay.wait_for(before + 1)[-1]
    assert mail.rcpt_tos == [address] and mail.mail_from == SENDER
    match = re.search(r"\b(\d{6})\b", mail.message.get_content())
    assert match is not None
    return match.group(1)


def sign_up(server: Server, address: str, code: str | None) -> Any:
    return server.client.post(
        "/user_api/register", json={"email": address, "password": sha256("pw"), "code": code}
    )


def test_verified_registration_gets_the_default_role(mailing_server: Server, relay: SmtpSink) -> None:
    address = email()
    code = request_code(mailing_server, relay, address)
    again = mailing_server.client.post("/user_api/verify_code", json={"email": address})
    assert (again.status_code, again.text) == (400, "Code already sent, please wait")
    missing = sign_up(mailing_server, address, None)
    assert (missing.status_code, missing.text) == (400, "Invalid verify code")
    assert sign_up(mailing_server, address, code).status_code == 200
    jwt = mailing_server.client.post(
        "/user_api/login", json={"email": address, "password": sha256("pw")}
    ).json()["jwt"]
    assert mailing_server.user("GET", "/user_api/settings", jwt).json()["user_role"]["role"] == "vip"
    reused = sign_up(mailing_server, email(), code)
    assert reused.status_code == 400


def test_a_code_cannot_be_guessed(mailing_server: Server, relay: SmtpSink) -> None:
    """Five wrong guesses kill the code: even the right one fails after, and no new code can be
    asked for until the old one's time is up."""
    address = email()
    code = request_code(mailing_server, relay, address)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert sign_up(mailing_server, address, wrong).text == "Invalid verify code"
    assert sign_up(mailing_server, address, code).text == "Invalid verify code"
    response = mailing_server.client.post("/user_api/verify_code", json={"email": address})
    assert (response.status_code, response.text) == (400, "Code already sent, please wait")


def test_a_code_expires(mailing_server: Server, relay: SmtpSink) -> None:
    address = email()
    code = request_code(mailing_server, relay, address)
    key = f"verify_code:{address}"
    ((stored,),) = mailing_server.db.sql("SELECT value FROM settings WHERE key = ?", key)
    expired = {**json.loads(stored), "expires": time.time() - 1}
    mailing_server.db.sql("UPDATE settings SET value = ? WHERE key = ?", json.dumps(expired), key)
    assert sign_up(mailing_server, address, code).text == "Invalid verify code"
    assert request_code(mailing_server, relay, address) != ""


def test_verify_code_needs_a_sender_and_a_working_relay(make_server: ServerFactory) -> None:
    dead = {"test.example": {"host": "127.0.0.1", "port": 9, "secure": False}}
    server = make_server(**USERS_ENV, SMTP_CONFIG=json.dumps(dead))
    refused = server.admin(
        "POST",
        "/admin/user_settings",
        json={"enable": True, "enableMailVerify": True, "verifyMailSender": ""},
    )
    assert (refused.status_code, refused.text) == (
        400,
        "Verify mail sender address is not set, please contact the administrator",
    )
    open_registration(server, verifyMailSender="")
    unset = server.client.post("/user_api/verify_code", json={"email": email()})
    assert unset.status_code == 400 and unset.text.startswith("Verify mail sender address is not set")
    open_registration(server, enableMailVerify=True, verifyMailSender=SENDER)
    address = email()
    down = server.client.post("/user_api/verify_code", json={"email": address})
    assert down.status_code == 400 and down.text.startswith("Failed to send verify code")
    retry = server.client.post("/user_api/verify_code", json={"email": address})
    assert retry.text.startswith("Failed to send verify code"), "a failed send must not block a retry"


def test_verify_code_applies_the_registration_rules(mailing_server: Server) -> None:
    open_registration(
        mailing_server,
        enableMailVerify=True,
        verifyMailSender=SENDER,
        enableMailAllowList=True,
        mailAllowList=["good.example"],
    )
    response = mailing_server.client.post("/user_api/verify_code", json={"email": "x@bad.example"})
    assert response.status_code == 400 and response.text.startswith("User mail domain must be in this list")
    bad = mailing_server.client.post("/user_api/verify_code", json={"email": "no-at-sign"})
    assert bad.status_code == 400


# --- passkeys ------------------------------------------------------------------------------


@pytest.fixture
def server(make_server: ServerFactory) -> Server:
    # The fake OAuth2 provider listens on loopback, which the outbound guard refuses by default.
    return make_server(**USERS_ENV, OUTBOUND_ALLOW_NETWORKS="127.0.0.1")


def enrol(server: Server, user_jwt: str, authenticator: SoftAuthenticator, name: str = "laptop") -> Any:
    options = server.user(
        "POST", "/user_api/passkey/register_request", user_jwt, json={"domain": "localhost"}
    )
    assert options.status_code == 200, options.text
    credential = authenticator.register(options.json(), ORIGIN)
    return server.user(
        "POST",
        "/user_api/passkey/register_response",
        user_jwt,
        json={"origin": ORIGIN, "passkey_name": name, "credential": credential},
    )


def passkey_login(server: Server, authenticator: SoftAuthenticator, origin: str = ORIGIN) -> Any:
    options = server.client.post("/user_api/passkey/authenticate_request", json={"domain": "localhost"})
    assert options.status_code == 200, options.text
    assertion = authenticator.authenticate(options.json(), origin)
    return server.client.post(
        "/user_api/passkey/authenticate_response",
        json={"origin": origin, "domain": "localhost", "credential": assertion},
    )


def test_passkey_register_list_rename_login_delete(server: Server) -> None:
    address = email()
    user_jwt = register(server, address)
    authenticator = SoftAuthenticator()
    assert enrol(server, user_jwt, authenticator).json() == {"success": True}
    (listed,) = server.user("GET", "/user_api/passkey", user_jwt).json()
    assert listed["passkey_name"] == "laptop"
    assert set(listed) == {"passkey_name", "passkey_id", "created_at", "updated_at"}
    renamed = server.user(
        "POST",
        "/user_api/passkey/rename",
        user_jwt,
        json={"passkey_id": listed["passkey_id"], "passkey_name": "phone"},
    )
    assert renamed.status_code == 200
    assert server.user("GET", "/user_api/passkey", user_jwt).json()[0]["passkey_name"] == "phone"

    login = passkey_login(server, authenticator)
    assert login.status_code == 200, login.text
    settings = server.user("GET", "/user_api/settings", login.json()["jwt"]).json()
    assert settings["user_email"] == address

    assert server.user("DELETE", f"/user_api/passkey/{listed['passkey_id']}", user_jwt).json() == {
        "success": True
    }
    assert server.user("GET", "/user_api/passkey", user_jwt).json() == []
    gone = passkey_login(server, authenticator)
    assert (gone.status_code, gone.text) == (404, "Passkey not found")


def test_a_passkey_assertion_cannot_be_replayed_or_moved(server: Server) -> None:
    user_jwt = register(server, email())
    authenticator = SoftAuthenticator()
    enrol(server, user_jwt, authenticator)
    options = server.client.post(
        "/user_api/passkey/authenticate_request", json={"domain": "localhost"}
    ).json()
    assertion = authenticator.authenticate(options, ORIGIN)
    body = {"origin": ORIGIN, "domain": "localhost", "credential": assertion}
    assert server.client.post("/user_api/passkey/authenticate_response", json=body).status_code == 200
    replay = server.client.post("/user_api/passkey/authenticate_response", json=body)
    assert (replay.status_code, replay.text) == (400, "Authentication failed")
    phishing = passkey_login(server, authenticator, origin="https://evil.example")
    assert (phishing.status_code, phishing.text) == (400, "Authentication failed")


def test_passkey_registration_checks(server: Server) -> None:
    user_jwt = register(server, email())
    authenticator = SoftAuthenticator()
    no_request = server.user(
        "POST",
        "/user_api/passkey/register_response",
        user_jwt,
        json={"origin": ORIGIN, "passkey_name": "x", "credential": {"id": "x"}},
    )
    assert (no_request.status_code, no_request.text) == (400, "Registration failed")
    options = server.user(
        "POST", "/user_api/passkey/register_request", user_jwt, json={"domain": "localhost"}
    ).json()
    credential = authenticator.register(options, ORIGIN)
    tampered = json.loads(json.dumps(credential))
    tampered["response"]["clientDataJSON"] = credential["response"]["clientDataJSON"][:-4] + "AAAA"
    bad = server.user(
        "POST",
        "/user_api/passkey/register_response",
        user_jwt,
        json={"origin": ORIGIN, "passkey_name": "x", "credential": tampered},
    )
    assert (bad.status_code, bad.text) == (400, "Registration failed")
    for domain in ("", "http://localhost/", "a b"):
        response = server.user(
            "POST", "/user_api/passkey/register_request", user_jwt, json={"domain": domain}
        )
        assert response.status_code == 400, domain
    garbage = server.client.post(
        "/user_api/passkey/authenticate_response",
        json={"origin": ORIGIN, "domain": "localhost", "credential": {"rawId": "@@", "response": {}}},
    )
    assert (garbage.status_code, garbage.text) == (400, "Invalid input")


def test_another_users_passkey_cannot_be_renamed_or_deleted(server: Server) -> None:
    owner, intruder = register(server, email()), register(server, email())
    enrol(server, owner, SoftAuthenticator())
    (listed,) = server.user("GET", "/user_api/passkey", owner).json()
    rename = server.user(
        "POST",
        "/user_api/passkey/rename",
        intruder,
        json={"passkey_id": listed["passkey_id"], "passkey_name": "mine"},
    )
    # As the reference: success, and nothing of the owner's changes (COMPAT §7).
    assert rename.json() == {"success": True}
    assert server.user("DELETE", f"/user_api/passkey/{listed['passkey_id']}", intruder).json() == {
        "success": True
    }
    assert server.user("GET", "/user_api/passkey", owner).json()[0]["passkey_name"] == "laptop"


# --- OAuth2 --------------------------------------------------------------------------------

REDIRECT = "http://localhost:8787/user/oauth2/callback"


def configure(server: Server, provider: OAuth2Provider, **extra: Any) -> dict[str, Any]:
    settings = {
        "name": "TestID",
        "clientID": provider.client_id,
        "clientSecret": provider.client_secret,
        "authorizationURL": f"{provider.base_url}/authorize",
        "accessTokenURL": f"{provider.base_url}/token",
        "accessTokenFormat": provider.token_format,
        "userInfoURL": f"{provider.base_url}/userinfo",
        "userEmailKey": "email",
        "redirectURL": REDIRECT,
        "scope": "openid email",
        **extra,
    }
    response = server.admin("POST", "/admin/user_oauth2_settings", json=[settings])
    assert response.status_code == 200, response.text
    return settings


def oauth_login(server: Server, provider: OAuth2Provider, user: dict[str, Any]) -> Any:
    """Play the browser: get the login URL, visit the provider, bring the code back."""
    state = uuid.uuid4().hex
    url = server.client.get(
        "/user_api/oauth2/login_url", params={"clientID": provider.client_id, "state": state}
    ).json()["url"]
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{provider.base_url}/authorize?")
    assert query["client_id"] == provider.client_id and query["state"] == state
    assert query["redirect_uri"] == REDIRECT and query["response_type"] == "code"
    provider.next_user = user
    code = provider.authorize(query["redirect_uri"], state, query.get("scope", ""))
    return server.client.post(
        "/user_api/oauth2/callback", json={"clientID": provider.client_id, "code": code}
    )


@pytest.mark.parametrize("token_format", ["json", "form"])
def test_oauth2_login_creates_the_user_once(server: Server, token_format: str) -> None:
    with OAuth2Provider(token_format=token_format) as provider:
        settings = configure(server, provider, icon="https://id.example/icon.png")
        listed = server.client.get("/user_api/open_settings").json()["oauth2ClientIDs"]
        assert listed == [{"clientID": provider.client_id, "name": "TestID", "icon": settings["icon"]}]
        address = email()
        first = oauth_login(server, provider, {"email": address.upper()})
        assert first.status_code == 200, first.text
        me = server.user("GET", "/user_api/settings", first.json()["jwt"]).json()
        assert me["user_email"] == address
        second = oauth_login(server, provider, {"email": address})
        assert (
            server.user("GET", "/user_api/settings", second.json()["jwt"]).json()["user_id"] == me["user_id"]
        )
        users = server.admin(
            "GET", "/admin/users", params={"limit": 10, "offset": 0, "query": address}
        ).json()
        assert users["count"] == 1


def test_oauth2_nested_email_key_format_and_allow_list(server: Server) -> None:
    with OAuth2Provider() as provider:
        configure(
            server,
            provider,
            userEmailKey="data.login",
            enableEmailFormat=True,
            userEmailFormat=r"^(.+)$",
            userEmailReplace="$1@corp.example",
            enableMailAllowList=True,
            mailAllowList=["corp.example"],
        )
        login = f"dev{uuid.uuid4().hex[:6]}"
        response = oauth_login(server, provider, {"data": {"login": login}})
        assert response.status_code == 200, response.text
        me = server.user("GET", "/user_api/settings", response.json()["jwt"]).json()
        assert me["user_email"] == f"{login}@corp.example"
        configure(server, provider, enableMailAllowList=True, mailAllowList=["corp.example"])
        refused = oauth_login(server, provider, {"email": "someone@elsewhere.example"})
        assert refused.status_code == 400 and refused.text.startswith("User mail domain must be in this list")


def test_oauth2_failures_are_clear_400s(server: Server) -> None:
    with OAuth2Provider() as provider:
        configure(server, provider)
        bad_code = server.client.post(
            "/user_api/oauth2/callback", json={"clientID": provider.client_id, "code": "nope"}
        )
        # The reference's texts (COMPAT §2), naming the step that failed.
        token_failed = (400, "Failed to get access token from Oauth2 provider")
        assert (bad_code.status_code, bad_code.text) == token_failed
        not_set = (400, "Oauth2 client ID is not set, please contact the administrator")
        unknown = server.client.post("/user_api/oauth2/callback", json={"clientID": "other", "code": "x"})
        assert (unknown.status_code, unknown.text) == not_set
        url = server.client.get("/user_api/oauth2/login_url", params={"clientID": "other"})
        assert (url.status_code, url.text) == not_set
        missing = server.client.post("/user_api/oauth2/callback", json={"clientID": provider.client_id})
        assert (missing.status_code, missing.text) == (400, "Oauth2 client ID or code is missing")
        no_email = oauth_login(server, provider, {"name": "no mail here"})
        assert (no_email.status_code, no_email.text) == (400, "Failed to get user email from Oauth2 provider")
        configure(server, provider, clientSecret="wrong")
        wrong_secret = oauth_login(server, provider, {"email": email()})
        assert (wrong_secret.status_code, wrong_secret.text) == token_failed
    with OAuth2Provider() as gone:
        configure(server, gone)
    down = oauth_login_without_browser(server, gone.client_id)
    assert down.status_code == 400


def oauth_login_without_browser(server: Server, client_id: str) -> Any:
    return server.client.post("/user_api/oauth2/callback", json={"clientID": client_id, "code": "any"})


def test_oauth2_settings_need_the_admin(server: Server) -> None:
    assert server.client.get("/admin/user_oauth2_settings").status_code == 401
    assert server.client.post("/admin/user_oauth2_settings", json=[]).status_code == 401
    assert server.admin("POST", "/admin/user_oauth2_settings", json=[{"name": "x"}]).status_code == 400
    assert server.admin("POST", "/admin/user_oauth2_settings", json=[]).status_code == 200
    assert server.admin("GET", "/admin/user_oauth2_settings").json() == []
