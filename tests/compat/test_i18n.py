"""COMPAT §2: the reference's en/zh texts byte for byte, composite texts, and the language rule
(`x-lang`, else DEFAULT_LANG; only exactly `zh` is Chinese)."""

from __future__ import annotations

import pytest

from tempmail.errors import ApiError, language
from tests.conftest import ServerFactory
from tests.support import Server

# A sample of the reference's table, with its ASCII ", " and its one full-width comma.
REFERENCE_PAIRS = {
    "You have enabled the private site password, please provide the password": (
        "你已启用私有站点密码,请提供密码"
    ),
    "Your token has expired, please login again": "您的令牌已过期, 请重新登录",
    "Invalid address credential": "无效的邮箱地址凭据",
    "Domains are not set, please contact the administrator": "域名列表未设置, 请联系管理员",
    "Invalid limit": "无效的 limit 参数",
    "Please enable KV first if you want to enable mail verify": "如果要启用邮件验证，请先启用 KV",
    "Please enable resend, smtp or SEND_MAIL for this domain": "请先为此域名启用 resend、smtp 或 SEND_MAIL",
    "SQL statement is too long (max 1000 characters)": "SQL 语句过长 (最大 1000 字符)",
    "TELEGRAM_BOT_TOKEN is required": "需要设置 TELEGRAM_BOT_TOKEN",
}


@pytest.mark.parametrize(("english", "chinese"), REFERENCE_PAIRS.items())
def test_reference_texts(english: str, chinese: str) -> None:
    error = ApiError(400, english)
    assert (error.text("en"), error.text("zh")) == (english, chinese)


COMPOSITES = [
    (("Failed to create address: {inner}", {"inner": "Invalid domain"}), "创建邮箱地址失败: 无效的域名"),
    (("Failed to create address: Name is too short (min 3)", {}), "创建邮箱地址失败: 名称太短 (min 3)"),
    (
        ("Failed to create address: {inner}", {"inner": "Name is too long (max 30)"}),
        "创建邮箱地址失败: 名称太长 (max 30)",
    ),
    (("Operation failed: {inner}", {"inner": "Invalid cleanType"}), "操作失败: 无效的 cleanType"),
    (("Failed to send mail {inner}", {"inner": "No balance"}), "Failed to send mail 余额不足"),
    (
        ("Please enable resend, smtp or SEND_MAIL for this domain ({domain})", {"domain": "a.example"}),
        "请先为此域名启用 resend、smtp 或 SEND_MAIL (a.example)",
    ),
    (("Invalid IP blacklist setting: {detail}", {"detail": "enabled"}), "无效的 IP 黑名单设置: enabled"),
    (("SQL statement is too long (max {max} characters)", {"max": 1000}), "SQL 语句过长 (最大 1000 字符)"),
]


@pytest.mark.parametrize(("error", "chinese"), COMPOSITES)
def test_composite_texts(error: tuple[str, dict[str, object]], chinese: str) -> None:
    template, params = error
    assert ApiError(400, template, **params).text("zh") == chinese


@pytest.mark.parametrize(
    "english",
    [
        "Name[bob]is blocked",
        "Failed to create address: Name not match regex: /^[a-z]+$/",
        "Invalid config key",
        "Config value must be a string",
        "Not available",
        "address and raw are required",
        "raw content too large",
        "message_id too long",
        "from, to and raw are required",
    ],
)
def test_english_only_texts(english: str) -> None:
    text = ApiError(400, english).text("zh")
    assert text in (english, "创建邮箱地址失败: Name not match regex: /^[a-z]+$/")


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        ("zh", "en", "zh"),
        ("zh-CN", "en", "en"),
        ("ZH", "zh", "en"),
        (None, "zh", "zh"),
        ("en", "zh", "en"),
        ("", "zh", "zh"),
    ],
)
def test_language_rule(header: str | None, default: str, expected: str) -> None:
    assert language(header, default) == expected


def test_x_lang_over_http(server: Server) -> None:
    url = "/api/mails?limit=1&offset=0"
    assert server.client.get(url, headers={"x-lang": "zh"}).text == "无效的邮箱地址凭据"
    assert server.client.get(url, headers={"x-lang": "zh-CN"}).text == "Invalid address credential"
    assert server.client.get(url).text == "Invalid address credential"


def test_default_lang(make_server: ServerFactory) -> None:
    chinese = make_server(DEFAULT_LANG="zh", PASSWORDS='["pw"]')
    assert chinese.client.get("/api/settings").text == "你已启用私有站点密码,请提供密码"
    assert chinese.client.get("/api/settings", headers={"x-lang": "en"}).text == (
        "You have enabled the private site password, please provide the password"
    )
    assert chinese.client.get("/admin/statistics", headers={"x-custom-auth": "pw"}).text == (
        "您需要提供管理员密码才能访问此页面"
    )
    refused = chinese.client.get("/api/mails?limit=1&offset=0", headers={"x-custom-auth": "pw"})
    assert (refused.status_code, refused.text) == (401, "无效的邮箱地址凭据")


def test_composite_over_http(server: Server) -> None:
    response = server.client.post(
        "/api/new_address", json={"name": "i18ncheck", "domain": "nowhere.invalid"}, headers={"x-lang": "zh"}
    )
    assert (response.status_code, response.text) == (400, "创建邮箱地址失败: 无效的域名")
