"""COMPAT §4: IP access control — the admin settings and the runtime check on the five guarded
paths, with the reference's exact texts and status codes, on both backends.

The rules are global to a server, so these tests run on servers of their own (TITLE picks the
profile) and each test states the rules it needs first. Client IPs come from `cf-connecting-ip`,
as the reference's tests set them, each test with addresses of its own.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import ServerFactory
from tests.support import Server

DEFAULT = {
    "enabled": False,
    "blacklist": [],
    "asnBlacklist": [],
    "fingerprintBlacklist": [],
    "enableWhitelist": False,
    "whitelist": [],
    "enableDailyLimit": False,
    "dailyRequestLimit": 1000,
}
SETTINGS = "/admin/ip_blacklist/settings"
GUARDED = [
    ("POST", "/api/new_address"),
    ("POST", "/api/send_mail"),
    ("POST", "/external/api/send_mail"),
    ("POST", "/user_api/register"),
    ("POST", "/user_api/verify_code"),
]


@pytest.fixture
def ip_server(make_server: ServerFactory) -> Server:
    return make_server(TITLE="ip-access")


def rules(**changes: Any) -> dict[str, Any]:
    return {**DEFAULT, **changes}


def save(server: Server, body: Any, **headers: str) -> httpx.Response:
    return server.admin("POST", SETTINGS, json=body, headers=headers)


def apply(server: Server, **changes: Any) -> None:
    response = save(server, rules(**changes))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}


def new_address(server: Server, ip: str | None = None, **headers: str) -> httpx.Response:
    if ip is not None:
        headers["cf-connecting-ip"] = ip
    body = {"name": f"ip{uuid.uuid4().hex[:10]}", "domain": "test.example"}
    return server.client.post("/api/new_address", json=body, headers=headers)


def an_ip() -> str:
    """An address no other test uses (daily counts are per IP)."""
    raw = uuid.uuid4().bytes
    return f"10.{raw[0]}.{raw[1]}.{1 + raw[2] % 24}"


# --- §4.1 settings ----------------------------------------------------------------------------


def test_get_answers_the_default_object_when_nothing_is_stored(make_server: ServerFactory) -> None:
    server = make_server(TITLE="ip-access-default")
    response = server.admin("GET", SETTINGS)
    assert response.status_code == 200
    assert response.json() == DEFAULT
    assert list(response.json()) == list(DEFAULT)


def test_settings_need_the_admin(ip_server: Server) -> None:
    for method in ("GET", "POST"):
        response = ip_server.client.request(method, SETTINGS, json=DEFAULT)
        assert response.status_code == 401
        assert response.text == "You need to provide the admin password to access this page"


def test_save_trims_lists_drops_empties_and_defaults_the_whitelist(ip_server: Server) -> None:
    body = rules(
        enabled=True,
        blacklist=[" 10.0.0.1 ", "", "   ", "bad"],
        asnBlacklist=[" Some ASN "],
        fingerprintBlacklist=["fp1 ", ""],
        dailyRequestLimit="250",
    )
    del body["enableWhitelist"], body["whitelist"]
    response = save(ip_server, body)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    stored = ip_server.admin("GET", SETTINGS).json()
    assert stored == rules(
        enabled=True,
        blacklist=["10.0.0.1", "bad"],
        asnBlacklist=["Some ASN"],
        fingerprintBlacklist=["fp1"],
        dailyRequestLimit=250,
    )
    apply(ip_server)
    assert ip_server.admin("GET", SETTINGS).json() == DEFAULT


TOO_MANY = ["x"] * 1001
REFUSED = [
    ({"enabled": "yes"}, "Invalid IP blacklist setting: enabled"),
    ({"enabled": None}, "Invalid IP blacklist setting: enabled"),
    ({"blacklist": "10.0.0.1"}, "Invalid IP blacklist setting: blacklist"),
    ({"asnBlacklist": {}}, "Invalid IP blacklist setting: asnBlacklist"),
    ({"fingerprintBlacklist": None}, "Invalid IP blacklist setting: fingerprintBlacklist"),
    ({"enableWhitelist": 1}, "Invalid IP blacklist setting: enableWhitelist"),
    ({"whitelist": "10.0.0.1"}, "Invalid IP blacklist setting: whitelist"),
    ({"enableDailyLimit": "true"}, "Invalid IP blacklist setting: enableDailyLimit"),
    ({"dailyRequestLimit": 0}, "Invalid IP blacklist setting: dailyRequestLimit (1-1000000)"),
    ({"dailyRequestLimit": 1000001}, "Invalid IP blacklist setting: dailyRequestLimit (1-1000000)"),
    ({"dailyRequestLimit": "many"}, "Invalid IP blacklist setting: dailyRequestLimit (1-1000000)"),
    ({"dailyRequestLimit": None}, "Invalid IP blacklist setting: dailyRequestLimit (1-1000000)"),
    ({"blacklist": TOO_MANY}, "Blacklist exceeds maximum size: blacklist (1000)"),
    ({"asnBlacklist": TOO_MANY}, "Blacklist exceeds maximum size: asnBlacklist (1000)"),
    ({"fingerprintBlacklist": TOO_MANY}, "Blacklist exceeds maximum size: fingerprintBlacklist (1000)"),
    ({"whitelist": ["x"] * 1234}, "Blacklist exceeds maximum size: whitelist (1234/1000)"),
    ({"whitelist": ["10.0.0.1", 7]}, "Invalid IP blacklist setting: whitelist element must be a string"),
    ({"whitelist": ["10.0.0.1", "^10.(0"]}, "Invalid IP blacklist setting: whitelist invalid regex: ^10.(0"),
    # The first failing check wins, in the reference's order.
    ({"enabled": 1, "blacklist": 2}, "Invalid IP blacklist setting: enabled"),
    ({"enableDailyLimit": 0, "dailyRequestLimit": 0}, "Invalid IP blacklist setting: enableDailyLimit"),
    (
        {"dailyRequestLimit": 0, "blacklist": TOO_MANY},
        "Invalid IP blacklist setting: dailyRequestLimit (1-1000000)",
    ),
]


@pytest.mark.parametrize(("changes", "text"), REFUSED, ids=[text for _, text in REFUSED])
def test_a_refused_body_gets_the_reference_text_and_writes_nothing(
    ip_server: Server, changes: dict[str, Any], text: str
) -> None:
    apply(ip_server, blacklist=["192.0.2.1"])
    response = save(ip_server, rules(**changes))
    assert response.status_code == 400
    assert response.text == text
    assert ip_server.admin("GET", SETTINGS).json() == rules(blacklist=["192.0.2.1"])


def test_a_body_that_is_not_an_object_is_refused(ip_server: Server) -> None:
    for body in ([], "settings", 5):
        response = save(ip_server, body)
        assert (response.status_code, response.text) == (400, "Invalid IP blacklist setting: enabled")


def test_the_prefix_is_localised_and_the_detail_stays_english(ip_server: Server) -> None:
    response = save(ip_server, rules(enabled="no"), **{"x-lang": "zh"})
    assert (response.status_code, response.text) == (400, "无效的 IP 黑名单设置: enabled")
    response = save(ip_server, rules(blacklist=TOO_MANY), **{"x-lang": "zh"})
    assert (response.status_code, response.text) == (400, "黑名单超出最大条目限制: blacklist (1000)")


# --- §4.2 runtime check -----------------------------------------------------------------------


def test_blacklist_refuses_on_every_guarded_path_before_any_credential(ip_server: Server) -> None:
    ip = an_ip()
    apply(ip_server, enabled=True, blacklist=[ip])
    for method, path in GUARDED:
        response = ip_server.client.request(method, path, json={}, headers={"cf-connecting-ip": ip})
        assert (response.status_code, response.text) == (403, f"Access denied: IP {ip} is blacklisted"), path
    assert new_address(ip_server, an_ip()).status_code == 200
    # Other paths are not guarded.
    response = ip_server.client.get("/open_api/settings", headers={"cf-connecting-ip": ip})
    assert response.status_code == 200
    response = ip_server.client.post("/api/address_login", json={}, headers={"cf-connecting-ip": ip})
    assert response.status_code != 403


def test_blacklist_patterns_are_substrings_or_regexes(ip_server: Server) -> None:
    apply(ip_server, enabled=True, blacklist=["10.77.", r"^172\.3[01]\.", "2001:db8"])
    assert new_address(ip_server, "10.77.1.2").text == "Access denied: IP 10.77.1.2 is blacklisted"
    assert new_address(ip_server, "172.31.0.9").status_code == 403
    assert new_address(ip_server, "2001:db8::7").text == "Access denied: IP 2001:db8::7 is blacklisted"
    assert new_address(ip_server, "172.32.0.9").status_code == 200
    assert new_address(ip_server, "10.78.1.2").status_code == 200
    # The regex is tested anywhere in the IP and is case-sensitive.
    apply(ip_server, enabled=True, blacklist=["DB8:"])
    assert new_address(ip_server, "2001:db8::7").status_code == 200


def test_rules_off_when_not_enabled(ip_server: Server) -> None:
    ip = an_ip()
    apply(ip_server, enabled=False, blacklist=[ip], fingerprintBlacklist=["fp"])
    assert new_address(ip_server, ip, **{"x-fingerprint": "fp"}).status_code == 200


def test_without_cf_connecting_ip_the_peer_address_is_used(ip_server: Server) -> None:
    apply(ip_server, enabled=True, blacklist=["127.0.0.1"])
    try:
        response = new_address(ip_server)
        assert (response.status_code, response.text) == (403, "Access denied: IP 127.0.0.1 is blacklisted")
        # A cf-connecting-ip that is not an IP address is not taken for one.
        assert new_address(ip_server, "not-an-ip").status_code == 403
    finally:
        apply(ip_server)


def test_fingerprint_blacklist(ip_server: Server) -> None:
    apply(ip_server, enabled=True, fingerprintBlacklist=["bad-fp", "^evil"])
    for fingerprint in ("bad-fp", "xx-bad-fp-yy", "evil123"):
        response = new_address(ip_server, an_ip(), **{"x-fingerprint": fingerprint})
        assert (response.status_code, response.text) == (
            403,
            "Access denied: Browser fingerprint is blacklisted",
        )
    assert new_address(ip_server, an_ip(), **{"x-fingerprint": "not-evil"}).status_code == 200
    assert new_address(ip_server, an_ip()).status_code == 200


def test_whitelist_refuses_the_rest_and_skips_the_blacklists(ip_server: Server) -> None:
    ip = an_ip()
    apply(
        ip_server,
        enabled=True,
        blacklist=[ip, "10."],
        fingerprintBlacklist=["fp"],
        enableWhitelist=True,
        whitelist=[ip, r"^192\.168\.5\.", "::ffff:10.1.1.1"],
    )
    assert new_address(ip_server, ip, **{"x-fingerprint": "fp"}).status_code == 200
    assert new_address(ip_server, "192.168.5.40").status_code == 200
    assert new_address(ip_server, "::ffff:10.1.1.1").status_code == 200
    other = an_ip()
    response = new_address(ip_server, other)
    assert (response.status_code, response.text) == (403, f"Access denied: IP {other} is not whitelisted")
    # An IPv4 literal is compared exactly, not as a regex of its dots (nor as a substring).
    response = new_address(ip_server, ip + "9")
    assert (response.status_code, response.text) == (403, f"Access denied: IP {ip}9 is not whitelisted")


def test_whitelist_applies_even_when_blacklisting_is_off(ip_server: Server) -> None:
    ip = an_ip()
    apply(ip_server, enabled=False, enableWhitelist=True, whitelist=[ip])
    assert new_address(ip_server, ip).status_code == 200
    assert new_address(ip_server, an_ip()).status_code == 403
    apply(ip_server, enabled=False, enableWhitelist=True, whitelist=[])
    assert new_address(ip_server, an_ip()).status_code == 200


def test_daily_limit_counts_per_ip_and_also_for_whitelisted_ips(ip_server: Server) -> None:
    ip, other = an_ip(), an_ip()
    apply(ip_server, enableDailyLimit=True, dailyRequestLimit=2)
    assert new_address(ip_server, ip).status_code == 200
    assert new_address(ip_server, ip).status_code == 200
    for _ in range(2):
        response = new_address(ip_server, ip)
        assert (response.status_code, response.text) == (429, f"IP={ip} Exceeded daily limit of 2 requests")
    assert new_address(ip_server, other).status_code == 200
    listed = an_ip()
    apply(ip_server, enableDailyLimit=True, dailyRequestLimit=1, enableWhitelist=True, whitelist=[listed])
    assert new_address(ip_server, listed).status_code == 200
    response = new_address(ip_server, listed)
    assert (response.status_code, response.text) == (429, f"IP={listed} Exceeded daily limit of 1 requests")


def test_a_fractional_limit_refuses_once_the_count_reaches_it(ip_server: Server) -> None:
    ip = an_ip()
    apply(ip_server, enableDailyLimit=True, dailyRequestLimit=1.5)
    assert [new_address(ip_server, ip).status_code for _ in range(2)] == [200, 200]
    response = new_address(ip_server, ip)
    assert (response.status_code, response.text) == (429, f"IP={ip} Exceeded daily limit of 1.5 requests")


@pytest.mark.parametrize(("proxies", "believed"), [("192.0.2.0/24", False), ("127.0.0.1/32", True)])
def test_with_trusted_proxies_only_they_are_believed(
    make_server: ServerFactory, proxies: str, believed: bool
) -> None:
    server = make_server(TITLE="ip-access-proxies", TRUSTED_PROXIES=proxies)
    ip = an_ip()
    apply(server, enabled=True, blacklist=[ip, "^127\\.0\\.0\\.1$"])
    response = new_address(server, ip)
    seen = ip if believed else "127.0.0.1"
    assert (response.status_code, response.text) == (403, f"Access denied: IP {seen} is blacklisted")


def test_a_saved_change_takes_effect_at_once(ip_server: Server) -> None:
    ip = an_ip()
    apply(ip_server, enabled=True, blacklist=[ip])
    assert new_address(ip_server, ip).status_code == 403
    apply(ip_server, enabled=True, blacklist=[])
    assert new_address(ip_server, ip).status_code == 200


def test_broken_stored_rules_let_requests_through(ip_server: Server) -> None:
    ip = an_ip()
    apply(ip_server, enabled=True, blacklist=[ip])
    assert new_address(ip_server, ip).status_code == 403
    ip_server.db.sql(
        "UPDATE settings SET value = ? WHERE key = 'ip_blacklist_settings'",
        '{"enabled": true, "blacklist": 5, "enableDailyLimit": true, "dailyRequestLimit": "x"}',
    )
    # The rules are cached for a few seconds; wait for the broken row to be read.
    deadline = time.monotonic() + 15
    while new_address(ip_server, ip).status_code == 403 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert new_address(ip_server, ip).status_code == 200
    apply(ip_server)


def test_the_site_password_is_checked_first(make_server: ServerFactory) -> None:
    server = make_server(TITLE="ip-access-site-password", PASSWORDS="site-pw")
    ip = an_ip()
    response = server.admin(
        "POST", SETTINGS, json=rules(enabled=True, blacklist=[ip]), headers={"x-custom-auth": "site-pw"}
    )
    assert response.status_code == 200
    response = new_address(server, ip)
    assert (response.status_code, response.text) == (
        401,
        "You have enabled the private site password, please provide the password",
    )
    response = new_address(server, ip, **{"x-custom-auth": "site-pw"})
    assert (response.status_code, response.text) == (403, f"Access denied: IP {ip} is blacklisted")


@pytest.mark.backends("postgresql")
def test_the_daily_limit_holds_across_nodes_sharing_one_database(make_server: ServerFactory) -> None:
    first = make_server(TITLE="ip-access-nodes")
    ip = an_ip()
    apply(first, enableDailyLimit=True, dailyRequestLimit=7)
    second = Server(first.backend, {"TITLE": "ip-access-nodes"})
    second.env["DATABASE_URL"] = first.db.url
    try:
        second.start()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda node: new_address(node, ip).status_code, [first, second] * 10))
        assert sorted(codes) == [200] * 7 + [429] * 13
    finally:
        second.close()
