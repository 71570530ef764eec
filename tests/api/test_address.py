"""`/api`: every address route, its auth failures and its bad input, on both backends."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from tests.conftest import ServerFactory
from tests.support import JWT_SECRET, Server

JWT_ROUTES = [
    ("GET", "/api/settings"),
    ("GET", "/api/mails?limit=10&offset=0"),
    ("GET", "/api/mail/1"),
    ("DELETE", "/api/mails/1"),
    ("GET", "/api/parsed_mails?limit=10&offset=0"),
    ("GET", "/api/parsed_mail/1"),
    ("DELETE", "/api/delete_address"),
    ("DELETE", "/api/clear_inbox"),
    ("DELETE", "/api/clear_sent_items"),
    ("POST", "/api/address_change_password"),
]
DELETE_ROUTES = [
    ("DELETE", "/api/mails/1"),
    ("DELETE", "/api/delete_address"),
    ("DELETE", "/api/clear_inbox"),
    ("DELETE", "/api/clear_sent_items"),
]
DELETE_DISABLED = "User delete address/email is disabled, please contact the administrator"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def unique() -> str:
    return f"n{uuid.uuid4().hex[:10]}"


def create(server: Server, **body: Any) -> httpx.Response:
    return server.client.post("/api/new_address", json=body)


def deliver(server: Server, address: str, subject: str) -> None:
    server.send(address, f"From: Bob <bob@remote.example>\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n")


# --- creating addresses --------------------------------------------------------------------


def test_new_address_shape_and_password(server: Server) -> None:
    name = unique()
    response = create(server, name=name, domain="test.example")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"jwt", "address", "password", "address_id"}
    assert body["address"] == f"{name}@test.example"
    assert isinstance(body["address_id"], int)
    assert isinstance(body["password"], str) and body["password"]


def test_name_is_trimmed_and_cleaned_without_lower_casing(server: Server) -> None:
    """As the reference (COMPAT §1.2): ADDRESS_REGEX removes the capitals, `Bob` is `ob`."""
    tail = uuid.uuid4().hex[:8]
    body = create(server, name=f"  Bob.Smith_{tail}  ", domain="test.example").json()
    assert body["address"] == f"obmith{tail}@test.example"


def test_random_name_and_domain_when_missing(server: Server) -> None:
    body = create(server).json()
    local, _, domain = body["address"].partition("@")
    assert local and local.isalnum()
    assert domain in ("test.example", "example.org")


def test_length_limits_and_prefix(make_server: ServerFactory) -> None:
    limited = make_server(MIN_ADDRESS_LEN="3", MAX_ADDRESS_LEN="12", PREFIX="tmp")
    assert (
        create(limited, name="ab", domain="test.example").text
        == "Failed to create address: Name is too short (min 3)"
    )
    assert (
        create(limited, name="a" * 13, domain="test.example").text
        == "Failed to create address: Name is too long (max 12)"
    )
    name = uuid.uuid4().hex[:12]
    assert create(limited, name=name, domain="test.example").json()["address"] == f"tmp{name}@test.example"


@pytest.mark.parametrize("domain", ["elsewhere.example", "sub.test.example", "TEST.EXAMPLE.evil"])
def test_invalid_domain(server: Server, domain: str) -> None:
    response = create(server, name=unique(), domain=domain)
    assert (response.status_code, response.text) == (400, "Failed to create address: Invalid domain")


def test_duplicate_address(server: Server) -> None:
    name = unique()
    assert create(server, name=name, domain="test.example").status_code == 200
    response = create(server, name=f" {name} ", domain="TEST.example")
    assert (response.status_code, response.text) == (400, "Failed to create address: Address already exists")


def test_creation_switches(make_server: ServerFactory) -> None:
    closed = make_server(ENABLE_USER_CREATE_EMAIL="false")
    response = create(closed, name=unique())
    assert (response.status_code, response.text) == (
        403,
        "New address is disabled, please contact the administrator",
    )
    anonymous_off = make_server(DISABLE_ANONYMOUS_USER_CREATE_EMAIL="true")
    response = create(anonymous_off, name=unique())
    assert (response.status_code, response.text) == (
        403,
        "New address for anonymous user is disabled, please contact the administrator",
    )


def test_custom_names_disabled_and_check_regex(make_server: ServerFactory) -> None:
    random_only = make_server(DISABLE_CUSTOM_ADDRESS_NAME="true")
    name = unique()
    assert not create(random_only, name=name).json()["address"].startswith(name)
    checked = make_server(ADDRESS_CHECK_REGEX="^[a-z]+$")
    assert (
        create(
            checked,
            name="abc" + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "ghijklmnop")),
            domain="test.example",
        ).status_code
        == 200
    )
    response = create(checked, name="abc123", domain="test.example")
    assert (response.status_code, response.text) == (
        400,
        "Failed to create address: Name not match regex: /^[a-z]+$/",
    )


def test_default_domains_restrict_anonymous(make_server: ServerFactory) -> None:
    restricted = make_server(DEFAULT_DOMAINS="example.org")
    assert create(restricted, name=unique(), domain="test.example").status_code == 400
    assert create(restricted, name=unique()).json()["address"].endswith("@example.org")


def test_no_password_without_address_passwords(make_server: ServerFactory) -> None:
    plain = make_server(ENABLE_ADDRESS_PASSWORD="false")
    assert create(plain, name=unique(), domain="test.example").json()["password"] is None


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"name": 123}', b'{"enableRandomSubdomain": "maybe"}', b"[1, 2]", b'"text"'],
)
def test_new_address_bad_body(server: Server, content: bytes) -> None:
    response = server.client.post(
        "/api/new_address", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.text.startswith("Invalid input")


# --- password login ------------------------------------------------------------------------


def test_password_login_and_change(server: Server) -> None:
    created = create(server, name=unique(), domain="test.example").json()
    login = {"email": created["address"], "password": sha256(created["password"])}
    response = server.client.post("/api/address_login", json=login)
    assert response.status_code == 200
    assert response.json()["address"] == created["address"]
    assert server.with_jwt("GET", "/api/settings", response.json()["jwt"]).status_code == 200

    change = server.with_jwt(
        "POST", "/api/address_change_password", created["jwt"], json={"new_password": sha256("new secret")}
    )
    assert change.json() == {"success": True}
    assert server.client.post("/api/address_login", json=login).status_code == 401
    login["password"] = sha256("new secret")
    assert server.client.post("/api/address_login", json=login).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({}, 400, "Email and password are required"),
        ({"email": "x@test.example"}, 400, "Email and password are required"),
        ({"email": "nobody-zz@test.example", "password": "ab"}, 404, "Address not found"),
    ],
)
def test_password_login_errors(server: Server, body: dict[str, str], status: int, text: str) -> None:
    response = server.client.post("/api/address_login", json=body)
    assert (response.status_code, response.text) == (status, text)


def test_wrong_password(server: Server) -> None:
    created = create(server, name=unique(), domain="test.example").json()
    response = server.client.post(
        "/api/address_login", json={"email": created["address"], "password": sha256("x")}
    )
    assert (response.status_code, response.text) == (401, "Invalid email or password")


def test_password_features_disabled(make_server: ServerFactory) -> None:
    plain = make_server(ENABLE_ADDRESS_PASSWORD="false")
    response = plain.client.post("/api/address_login", json={"email": "a@test.example", "password": "x"})
    assert (response.status_code, response.text) == (403, "Password login is disabled")
    created = plain.new_address()
    response = plain.with_jwt(
        "POST", "/api/address_change_password", created["jwt"], json={"new_password": "x"}
    )
    assert (response.status_code, response.text) == (403, "Password change is disabled")


def test_change_password_requires_one(server: Server) -> None:
    created = server.new_address()
    response = server.with_jwt("POST", "/api/address_change_password", created["jwt"], json={})
    assert (response.status_code, response.text) == (400, "New password is required")


# --- reading and deleting mail --------------------------------------------------------------


def test_settings(server: Server) -> None:
    created = server.new_address()
    response = server.with_jwt("GET", "/api/settings", created["jwt"])
    assert response.json() == {"address": created["address"], "send_balance": 0}


def test_mails_paging_newest_first(server: Server) -> None:
    created = server.new_address()
    for i in range(3):
        deliver(server, created["address"], f"m{i}")
    first = server.mails(created["jwt"], limit=2, offset=0)
    assert first["count"] == 3
    assert ["m2" in r["raw"] for r in first["results"]] == [True, False]
    second = server.mails(created["jwt"], limit=2, offset=2)
    assert second["count"] == 0
    assert len(second["results"]) == 1 and "Subject: m0" in second["results"][0]["raw"]


@pytest.mark.parametrize("route", ["/api/mails", "/api/parsed_mails"])
@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("offset=0", "Invalid limit"),
        ("limit=0&offset=0", "Invalid limit"),
        ("limit=101&offset=0", "Invalid limit"),
        ("limit=-1&offset=0", "Invalid limit"),
        ("limit=abc&offset=0", "Invalid limit"),
        ("limit=1e9&offset=0", "Invalid limit"),
        ("limit=10", "Invalid offset"),
        ("limit=10&offset=-1", "Invalid offset"),
        ("limit=10&offset=x", "Invalid offset"),
        ("limit=10&offset=99999999999999999999999", "Invalid offset"),
    ],
)
def test_paging_errors(server: Server, route: str, query: str, text: str) -> None:
    created = server.new_address()
    response = server.with_jwt("GET", f"{route}?{query}", created["jwt"])
    assert (response.status_code, response.text) == (400, text)


def test_one_mail_and_parsed_views(server: Server) -> None:
    created, other = server.new_address(), server.new_address()
    deliver(server, created["address"], "Hello parsed")
    deliver(server, other["address"], "Not yours")
    (row,) = server.mails(created["jwt"])["results"]
    (foreign,) = server.mails(other["jwt"])["results"]

    assert server.with_jwt("GET", f"/api/mail/{row['id']}", created["jwt"]).json() == row
    assert server.with_jwt("GET", f"/api/mail/{foreign['id']}", created["jwt"]).json() is None

    parsed = server.with_jwt("GET", f"/api/parsed_mail/{row['id']}", created["jwt"]).json()
    assert "raw" not in parsed
    assert parsed["subject"] == "Hello parsed"
    assert parsed["sender"] == "Bob <bob@remote.example>"
    assert parsed["text"] == "body of Hello parsed\n"
    assert parsed["html"] == ""
    assert parsed["attachments"] == []
    assert {k: parsed[k] for k in ("id", "address", "source", "created_at")} == {
        k: row[k] for k in ("id", "address", "source", "created_at")
    }
    assert server.with_jwt("GET", f"/api/parsed_mail/{foreign['id']}", created["jwt"]).json() is None
    page = server.with_jwt("GET", "/api/parsed_mails?limit=10&offset=0", created["jwt"]).json()
    assert page["count"] == 1 and page["results"][0] == parsed


def test_delete_mail_only_own(server: Server) -> None:
    created, other = server.new_address(), server.new_address()
    deliver(server, created["address"], "mine")
    deliver(server, other["address"], "theirs")
    (mine,) = server.mails(created["jwt"])["results"]
    (theirs,) = server.mails(other["jwt"])["results"]
    # Another address's mail is not deleted, yet the answer is success, as the reference's (COMPAT §26).
    assert server.with_jwt("DELETE", f"/api/mails/{theirs['id']}", created["jwt"]).json() == {"success": True}
    assert server.mails(other["jwt"])["count"] == 1
    assert server.with_jwt("DELETE", f"/api/mails/{mine['id']}", created["jwt"]).json() == {"success": True}
    assert server.mails(created["jwt"])["count"] == 0


def test_clear_inbox_and_sent_items(server: Server) -> None:
    created = server.new_address()
    deliver(server, created["address"], "a")
    deliver(server, created["address"], "b")
    assert server.with_jwt("DELETE", "/api/clear_inbox", created["jwt"]).json() == {"success": True}
    assert server.mails(created["jwt"])["count"] == 0
    assert server.with_jwt("DELETE", "/api/clear_sent_items", created["jwt"]).json() == {"success": True}


def test_delete_address_kills_credential(server: Server) -> None:
    created = server.new_address()
    deliver(server, created["address"], "gone")
    assert server.with_jwt("DELETE", "/api/delete_address", created["jwt"]).json() == {"success": True}
    response = server.with_jwt("GET", "/api/settings", created["jwt"])
    assert (response.status_code, response.text) == (400, "Invalid address")
    for method, path in JWT_ROUTES[1:]:
        response = server.with_jwt(method, path, created["jwt"], json={})
        assert (response.status_code, response.text) == (401, "Invalid address credential"), path
    rows = server.admin("GET", f"/admin/mails?limit=10&offset=0&address={created['address']}").json()
    assert rows["count"] == 0


@pytest.mark.parametrize(("method", "path"), DELETE_ROUTES)
def test_deletes_disabled(make_server: ServerFactory, method: str, path: str) -> None:
    keeping = make_server(ENABLE_USER_DELETE_EMAIL="false")
    created = keeping.new_address()
    response = keeping.with_jwt(method, path, created["jwt"])
    assert (response.status_code, response.text) == (403, DELETE_DISABLED)


# --- credentials ------------------------------------------------------------------------------


def _forged_tokens(server: Server) -> dict[str, str]:
    created = server.new_address()
    other = server.new_address()
    claims = {"address": created["address"], "address_id": created["address_id"]}
    unsigned = pyjwt.encode(claims, key="", algorithm="none")
    return {
        "garbage": "garbage",
        "other secret": pyjwt.encode(claims, "not-the-secret-0123456789abcdef0123", algorithm="HS256"),
        "alg none": unsigned,
        "wrong id": pyjwt.encode(
            {**claims, "address_id": other["address_id"]}, JWT_SECRET, algorithm="HS256"
        ),
        "no id": pyjwt.encode({"address": created["address"]}, JWT_SECRET, algorithm="HS256"),
        "bool id": pyjwt.encode({**claims, "address_id": True}, JWT_SECRET, algorithm="HS256"),
    }


@pytest.mark.parametrize(("method", "path"), JWT_ROUTES)
def test_bad_credentials_are_401(server: Server, method: str, path: str) -> None:
    missing = server.client.request(method, path, json={})
    assert (missing.status_code, missing.text) == (401, "Invalid address credential")
    assert missing.headers["content-type"].startswith("text/plain")
    wrong_scheme = server.client.request(method, path, headers={"Authorization": "Basic abc"}, json={})
    assert wrong_scheme.status_code == 401
    for label, token in _forged_tokens(server).items():
        response = server.with_jwt(method, path, token, json={})
        if label == "wrong id" and path == "/api/settings":
            # Correctly signed, but naming no address: /api/settings answers as the reference does.
            assert (response.status_code, response.text) == (400, "Invalid address")
            continue
        assert (response.status_code, response.text) == (401, "Invalid address credential"), label


@pytest.mark.parametrize("mail_id", ["abc", "0", "-5", "99999999999999999999999", "1.5"])
def test_bad_path_ids(server: Server, mail_id: str) -> None:
    created = server.new_address()
    for method, template in [
        ("GET", "/api/mail/{}"),
        ("GET", "/api/parsed_mail/{}"),
        ("DELETE", "/api/mails/{}"),
    ]:
        response = server.with_jwt(method, template.format(mail_id), created["jwt"])
        assert response.status_code == 400, (template, response.text)


# --- public routes ------------------------------------------------------------------------------

OPEN_SETTINGS_KEYS = {
    "title",
    "announcement",
    "alwaysShowAnnouncement",
    "prefix",
    "addressRegex",
    "minAddressLen",
    "maxAddressLen",
    "defaultDomains",
    "domains",
    "randomSubdomainDomains",
    "domainLabels",
    "needAuth",
    "adminContact",
    "enableUserCreateEmail",
    "disableAnonymousUserCreateEmail",
    "disableCustomAddressName",
    "enableUserDeleteEmail",
    "enableAutoReply",
    "enableIndexAbout",
    "copyright",
    "cfTurnstileSiteKey",
    "enableWebhook",
    "isS3Enabled",
    "enableSendMail",
    "version",
    "showGithub",
    "showGithubForUser",
    "disableAdminPasswordCheck",
    "enableAddressPassword",
    "enableAgentEmailInfo",
    "smtpImapProxyConfig",
    "statusUrl",
    "enableGlobalTurnstileCheck",
}


def test_health_routes(server: Server) -> None:
    for path in ("/", "/health_check"):
        response = server.client.get(path)
        assert (response.status_code, response.text) == (200, "OK")


def test_open_settings(server: Server) -> None:
    settings = server.client.get("/open_api/settings").json()
    assert set(settings) == OPEN_SETTINGS_KEYS
    assert settings["domains"] == ["test.example", "example.org"]
    assert settings["defaultDomains"] == ["test.example", "example.org"]
    assert settings["needAuth"] is False
    assert (settings["minAddressLen"], settings["maxAddressLen"]) == (1, 30)
    assert set(settings["smtpImapProxyConfig"]) == {"smtp", "imap"}


def test_unknown_path(server: Server) -> None:
    response = server.client.get("/no/such/path")
    assert (response.status_code, response.text) == (404, "Not Found")


def test_chinese_error_texts(server: Server) -> None:
    response = server.client.get("/api/mails?limit=1&offset=0", headers={"x-lang": "zh"})
    assert (response.status_code, response.text) == (401, "无效的邮箱地址凭据")
    created = server.new_address()
    response = server.with_jwt("GET", "/api/mails?limit=0&offset=0", created["jwt"], headers={"x-lang": "zh"})
    assert response.text == "无效的 limit 参数"
    # Only exactly `zh` is Chinese (COMPAT §2).
    response = server.with_jwt(
        "GET", "/api/mails?limit=0&offset=0", created["jwt"], headers={"x-lang": "zh-CN"}
    )
    assert response.text == "Invalid limit"


def test_activity_is_recorded(server: Server) -> None:
    created = server.new_address()
    before = time.time()
    server.mails(created["jwt"])
    rows = server.admin("GET", f"/admin/address?limit=5&offset=0&query={created['address']}").json()[
        "results"
    ]
    assert rows[0]["updated_at"] >= time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(before - 1))
