"""COMPAT §1.2, §11.5 and §20: creating addresses as cloudflare_temp_email v1.12 does — the name
pipeline (trim, ADDRESS_REGEX without lower-casing, block list, ADDRESS_CHECK_REGEX, length) and
its texts, the admin's shorter pipeline, prefixes of PREFIX and of roles, the domain rules and
random subdomains, source_meta, and what a user token changes."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accounts.test_user_accounts import email, register
from tests.conftest import ServerFactory
from tests.support import Server

ROLES = [
    {"role": "bare", "domains": ["example.org"], "prefix": ""},
    {"role": "plain", "domains": "EXAMPLE.org"},
]
# One server for the naming rules; its settings are its own, so the block list set below sees
# no other module's names.
RULES_ENV = {
    "DOMAINS": '["test.example", "example.org", "rnd.example.org"]',
    "PREFIX": " TMP ",
    "MIN_ADDRESS_LEN": "3",
    "MAX_ADDRESS_LEN": "12",
    "ADDRESS_CHECK_REGEX": "^[a-z]",
    "RANDOM_SUBDOMAIN_DOMAINS": '["rnd.example.org"]',
    "RANDOM_SUBDOMAIN_LENGTH": "1",
    "USER_ROLES": json.dumps(ROLES),
}
BLOCKED = "zzblocked"
FAILED = "Failed to create address: "


@pytest.fixture
def rules(make_server: ServerFactory) -> Iterator[Server]:
    server = make_server(**RULES_ENV)
    body = {"blockList": [BLOCKED], "sendBlockList": [], "verifiedAddressList": []}
    assert server.admin("POST", "/admin/account_settings", json=body).status_code == 200
    yield server


def tail() -> str:
    return uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "ghijklmnop"))


def create(server: Server, headers: dict[str, str] | None = None, **body: Any) -> tuple[int, str]:
    response = server.client.post("/api/new_address", json=body, headers=headers or {})
    return response.status_code, response.text


def address_of(server: Server, headers: dict[str, str] | None = None, **body: Any) -> str:
    status, text = create(server, headers, **body)
    assert status == 200, text
    return str(json.loads(text)["address"])


def admin_create(server: Server, **body: Any) -> tuple[int, str]:
    response = server.admin("POST", "/admin/new_address", json=body)
    return response.status_code, response.text


# --- the name ---------------------------------------------------------------------------------


def test_name_is_trimmed_and_cleaned_without_lower_casing(server: Server) -> None:
    """The reference's `Bob` → `ob`: ADDRESS_REGEX `[^a-z0-9]` removes the capital."""
    name = tail()
    assert address_of(server, name=f"  Bob-{name}  ", domain="test.example") == f"ob{name}@test.example"


def test_block_list_text_is_bare(rules: Server) -> None:
    """`Name[<name>]is blocked`, English in every language and without the creation prefix."""
    name = f"a{BLOCKED}b"
    assert create(rules, name=name, domain="test.example") == (400, f"Name[{name}]is blocked")
    # after ADDRESS_REGEX, before the check regex and the length: both would refuse this as well
    long_name = f"9{BLOCKED}{'x' * 20}"
    assert create(rules, name=f" 9-{BLOCKED}{'x' * 20}") == (400, f"Name[{long_name}]is blocked")
    zh = rules.client.post("/api/new_address", json={"name": name}, headers={"x-lang": "zh"})
    assert (zh.status_code, zh.text) == (400, f"Name[{name}]is blocked")


def test_check_regex_then_length(rules: Server) -> None:
    assert create(rules, name="9ab", domain="test.example") == (
        400,
        f"{FAILED}Name not match regex: /^[a-z]/",
    )
    assert create(rules, name="9", domain="test.example") == (400, f"{FAILED}Name not match regex: /^[a-z]/")
    assert create(rules, name="ab", domain="test.example") == (400, f"{FAILED}Name is too short (min 3)")
    assert create(rules, name="a" * 13, domain="test.example") == (400, f"{FAILED}Name is too long (max 12)")
    zh = rules.client.post("/api/new_address", json={"name": "ab"}, headers={"x-lang": "zh"})
    assert zh.text == "创建邮箱地址失败: 名称太短 (min 3)"
    zh = rules.client.post("/api/new_address", json={"name": "a" * 13}, headers={"x-lang": "zh"})
    assert zh.text == "创建邮箱地址失败: 名称太长 (max 12)"


def test_length_is_of_the_name_before_the_prefix(rules: Server) -> None:
    name = "abc" + tail() + "xyz"
    assert len(name) == 12
    assert address_of(rules, name=name, domain="test.example") == f"tmp{name}@test.example"


def test_admin_skips_block_list_and_check_regex_with_bounds_1_to_30(rules: Server) -> None:
    status, text = admin_create(rules, name=f"9{BLOCKED}{tail()}", domain="test.example", enablePrefix=True)
    assert status == 200, text
    assert re.fullmatch(rf"tmp9{BLOCKED}[a-z]{{6}}@test\.example", json.loads(text)["address"])
    long_name = "q" + tail() + "r" * 23
    assert len(long_name) == 30
    # PREFIX only when the body asks for it
    status, text = admin_create(rules, name=long_name, domain="test.example")
    assert (status, json.loads(text)["address"]) == (200, f"{long_name}@test.example")
    assert admin_create(rules, name=long_name + "s", domain="test.example") == (
        400,
        f"{FAILED}Name is too long (max 30)",
    )
    assert admin_create(rules, name="!!", domain="test.example") == (
        400,
        f"{FAILED}Name is too short (min 1)",
    )
    assert admin_create(rules, name="", domain="test.example") == (400, "Required field is missing")


def test_admin_creation_is_marked_admin(server: Server) -> None:
    name = tail()
    status, text = admin_create(server, name=name, domain="test.example")
    assert status == 200, text
    assert source_meta(server, f"{name}@test.example") == "admin"


# --- prefixes -----------------------------------------------------------------------------------


def test_prefix_is_trimmed_and_lower_cased(rules: Server) -> None:
    name = "p" + tail()
    assert address_of(rules, name=name, domain="test.example") == f"tmp{name}@test.example"
    assert rules.client.get("/open_api/settings").json()["prefix"] == "tmp"


def test_role_prefix_even_empty_wins_and_a_role_without_one_takes_prefix(rules: Server) -> None:
    bare_user, plain_user = register(rules, email()), register(rules, email())
    for token, role in ((bare_user, "bare"), (plain_user, "plain")):
        user_id = rules.user("GET", "/user_api/settings", token).json()["user_id"]
        assigned = rules.admin("POST", "/admin/user_roles", json={"user_id": user_id, "role_text": role})
        assert assigned.json() == {"success": True}
    name = "r" + tail()
    assert address_of(rules, name=name, headers={"x-user-token": bare_user}) == f"{name}@example.org"
    assert address_of(rules, name=name, headers={"x-user-token": plain_user}) == f"tmp{name}@example.org"
    # Roles as configured (domains normalised), a role without a prefix key without one here too.
    plain = {"role": "plain", "domains": ["example.org"]}
    assert rules.user("GET", "/user_api/settings", plain_user).json()["user_role"] == plain
    assert rules.admin("GET", "/admin/user_roles").json() == [ROLES[0], plain]
    # The role's domains are the only ones offered to its users.
    assert create(rules, name="s" + tail(), domain="test.example", headers={"x-user-token": bare_user}) == (
        400,
        f"{FAILED}Invalid domain",
    )


# --- domains ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    ["sub.test.example", "elsewhere.example", "test.example.", "-x.test.example", "a_b.test.example"],
)
def test_invalid_domains(server: Server, domain: str) -> None:
    assert create(server, name=tail(), domain=domain) == (400, f"{FAILED}Invalid domain")


def test_domain_is_trimmed_and_lower_cased(server: Server) -> None:
    name = tail()
    assert address_of(server, name=name, domain="  Test.EXAMPLE ") == f"{name}@test.example"


def test_manual_subdomain_of_a_random_subdomain_domain(rules: Server) -> None:
    """Allowed without subdomain matching, because the base is in RANDOM_SUBDOMAIN_DOMAINS."""
    name = "m" + tail()
    assert address_of(rules, name=name, domain="Box.rnd.example.org") == f"tmp{name}@box.rnd.example.org"
    assert create(rules, name=name, domain="box.test.example") == (400, f"{FAILED}Invalid domain")


def test_random_subdomain_needs_a_random_subdomain_domain(rules: Server) -> None:
    refused = (400, f"{FAILED}Random subdomain is not enabled for this domain")
    assert create(rules, name="n" + tail(), domain="test.example", enableRandomSubdomain=True) == refused
    assert create(rules, name="n" + tail(), domain="example.org", enableRandomSubdomain=True) == refused
    zh = rules.client.post(
        "/api/new_address",
        json={"name": "n" + tail(), "domain": "test.example", "enableRandomSubdomain": True},
        headers={"x-lang": "zh"},
    )
    assert zh.text == "创建邮箱地址失败: 当前域名未启用随机子域名"
    name = "n" + tail()
    status, text = create(rules, name=name, domain="rnd.example.org", enableRandomSubdomain=True)
    assert status == 200, text
    made = json.loads(text)
    assert re.fullmatch(rf"tmp{name}@[a-z0-9]\.rnd\.example\.org", made["address"])
    # and mail reaches it over SMTP
    rules.send(made["address"], f"To: {made['address']}\r\nSubject: sub\r\n\r\nto a random subdomain\r\n")
    assert rules.mails(made["jwt"])["count"] == 1


def test_longest_matching_base_wins(rules: Server) -> None:
    """With subdomain matching on, `x.rnd.example.org` matches `example.org` and
    `rnd.example.org`; the longer base decides that a random label is allowed."""
    settings = {"blockList": [BLOCKED], "sendBlockList": [], "verifiedAddressList": []}
    on = {**settings, "addressCreationSettings": {"enableSubdomainMatch": True}}
    assert rules.admin("POST", "/admin/account_settings", json=on).status_code == 200
    try:
        name = "l" + tail()
        made = address_of(rules, name=name, domain="x.rnd.example.org", enableRandomSubdomain=True)
        assert re.fullmatch(rf"tmp{name}@[a-z0-9]\.x\.rnd\.example\.org", made)
        assert address_of(rules, name=name, domain="y.test.example") == f"tmp{name}@y.test.example"
    finally:
        off = {**settings, "addressCreationSettings": {"enableSubdomainMatch": None}}
        assert rules.admin("POST", "/admin/account_settings", json=off).status_code == 200


def test_random_label_is_drawn_again_on_a_collision(rules: Server) -> None:
    """One-character labels collide soon; each creation tries up to five labels, and when they
    are all taken the answer is the duplicate text."""
    name = "c" + tail()
    made: list[str] = []
    while True:
        status, text = create(rules, name=name, domain="rnd.example.org", enableRandomSubdomain=True)
        if status != 200:
            break
        made.append(json.loads(text)["address"])
    assert (status, text) == (400, f"{FAILED}Address already exists")
    assert len(made) == len(set(made)) >= 5


def test_duplicate(server: Server) -> None:
    name = tail()
    assert create(server, name=name, domain="test.example")[0] == 200
    assert create(server, name=f" {name} ", domain="test.example") == (400, f"{FAILED}Address already exists")


# --- who created it ----------------------------------------------------------------------------


def source_meta(server: Server, address: str) -> Any:
    listing = server.admin("GET", "/admin/address", params={"limit": 1, "offset": 0, "query": address}).json()
    return listing["results"][0]["source_meta"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cf-connecting-ip": "203.0.113.9", "x-forwarded-for": "198.51.100.1"}, "203.0.113.9"),
        ({"x-forwarded-for": "198.51.100.1, 10.0.0.1", "x-real-ip": "192.0.2.5"}, "198.51.100.1"),
        ({"x-real-ip": "192.0.2.5"}, "192.0.2.5"),
        ({}, "web:unknown"),
    ],
)
def test_source_meta(server: Server, headers: dict[str, str], expected: str) -> None:
    address = address_of(server, headers, name=tail(), domain="test.example")
    assert source_meta(server, address) == expected


# --- a user token -------------------------------------------------------------------------------


def test_a_bad_user_token_is_anonymous(server: Server) -> None:
    status, text = create(server, {"x-user-token": "not.a.token"}, name=tail(), domain="test.example")
    assert status == 200, text


def test_a_user_token_does_not_bind(server: Server) -> None:
    user = register(server, email())
    status, text = create(server, {"x-user-token": user}, name=tail(), domain="test.example")
    assert status == 200, text
    assert server.user("GET", "/user_api/bind_address", user).json() == {"results": [], "count": 0}
