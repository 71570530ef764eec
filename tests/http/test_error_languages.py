"""API error texts in the six languages, over real HTTP: `x-lang` picks the language (exactly
`zh` for the reference's Chinese; `es`, `pt-BR`/`pt-br`/`pt`, `ja`, `de`; anything else English),
DEFAULT_LANG when it is absent, through every layer that answers errors (the routes, the fast
lane, the input guard, the site password)."""

from __future__ import annotations

import pytest

from tempmail.config import load_settings
from tempmail.errors import ApiError, language
from tests.conftest import ServerFactory
from tests.support import Server

MAILS = "/api/mails?limit=1&offset=0"
CREDENTIAL = {
    "zh": "无效的邮箱地址凭据",
    "es": "Credencial de dirección no válida",
    "pt-BR": "Credencial de endereço inválida",
    "ja": "アドレスの認証情報が無効です",
    "de": "Ungültiger Zugangsschlüssel der Adresse",
}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh", CREDENTIAL["zh"]),
        ("es", CREDENTIAL["es"]),
        ("pt-BR", CREDENTIAL["pt-BR"]),
        ("pt-br", CREDENTIAL["pt-BR"]),
        ("pt", CREDENTIAL["pt-BR"]),
        ("ja", CREDENTIAL["ja"]),
        ("de", CREDENTIAL["de"]),
        ("en", "Invalid address credential"),
        ("zh-CN", "Invalid address credential"),
        ("de-DE", "Invalid address credential"),
        ("ES", "Invalid address credential"),
        ("fr", "Invalid address credential"),
    ],
)
def test_x_lang_picks_the_language(server: Server, header: str, expected: str) -> None:
    response = server.client.get(MAILS, headers={"x-lang": header})
    assert (response.status_code, response.text) == (401, expected)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "创建邮箱地址失败: 无效的域名"),
        ("es", "No se pudo crear la dirección: Dominio no válido"),
        ("pt-BR", "Não foi possível criar o endereço: Domínio inválido"),
        ("ja", "アドレスを作成できませんでした: ドメインが無効です"),
        ("de", "Die Adresse konnte nicht erstellt werden: Ungültige Domain"),
    ],
)
def test_composite_texts(server: Server, lang: str, expected: str) -> None:
    response = server.client.post(
        "/api/new_address", json={"name": "langs", "domain": "nowhere.invalid"}, headers={"x-lang": lang}
    )
    assert (response.status_code, response.text) == (400, expected)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "创建邮箱地址失败: 名称太短 (min 3)"),
        ("es", "No se pudo crear la dirección: El nombre es demasiado corto (mín. 3)"),
        ("ja", "アドレスを作成できませんでした: 名前が短すぎます（最小 3）"),
        ("de", "Die Adresse konnte nicht erstellt werden: Der Name ist zu kurz (mindestens 3)"),
    ],
)
def test_composite_of_a_filled_in_template(lang: str, expected: str) -> None:
    """An inner text that is itself a filled-in template is recognised and translated."""
    error = ApiError(400, "Failed to create address: {inner}", inner="Name is too short (min 3)")
    assert error.text(lang) == expected


def test_tempmail_texts_and_english_only_texts(server: Server) -> None:
    """tempmail's own texts (the inbox poll's `wait`) have all the languages, Chinese too; the
    reference's English-only texts (COMPAT §2) stay English in every language."""
    jwt = server.new_address()["jwt"]
    for lang, expected in [
        ("zh", "无效的 wait 参数"),
        ("ja", "wait パラメーターが無効です"),
        ("en", "Invalid wait"),
    ]:
        response = server.with_jwt("GET", MAILS + "&wait=soon", jwt, headers={"x-lang": lang})
        assert (response.status_code, response.text) == (400, expected)
    for lang in ("zh", "es", "pt-BR", "ja", "de"):
        response = server.client.get("/api/no-such-route", headers={"x-lang": lang})
        assert (response.status_code, response.text) == (404, "Not Found")
        assert ApiError(400, "Name[{name}]is blocked", name="x").text(lang) == "Name[x]is blocked"


def test_input_guard_answers_in_the_language(server: Server) -> None:
    response = server.client.post(
        "/api/new_address",
        content=b"{not json",
        headers={"content-type": "application/json", "x-lang": "de"},
    )
    assert response.status_code == 400
    assert response.text.startswith("Ungültige Eingabe: ")


def test_default_lang(make_server: ServerFactory) -> None:
    japanese = make_server(DEFAULT_LANG="ja", PASSWORDS='["pw"]')
    assert japanese.client.get("/api/settings").text == (
        "このサイトはパスワードで保護されています。パスワードを入力してください"
    )
    site = {"x-custom-auth": "pw"}
    assert japanese.client.get(MAILS, headers=site).text == CREDENTIAL["ja"]
    assert japanese.client.get(MAILS, headers={**site, "x-lang": "en"}).text == "Invalid address credential"
    assert japanese.client.get(MAILS, headers={**site, "x-lang": "zh"}).text == CREDENTIAL["zh"]
    assert japanese.client.get(MAILS, headers={**site, "x-lang": "fr"}).text == "Invalid address credential"
    assert japanese.admin("GET", "/admin/statistics", headers={**site, "x-admin-auth": "no"}).text == (
        "このページにアクセスするには管理者パスワードが必要です"
    )


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [("pt", "en", "pt-BR"), (None, "de", "de"), ("", "ja", "ja"), ("ja-JP", "de", "en"), (None, None, "en")],
)
def test_language_rule(header: str | None, default: str | None, expected: str) -> None:
    assert language(header, default) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("zh", "zh"), ("pt-BR", "pt-BR"), ("pt-br", "pt-BR"), ("de", "de"), ("fr", "en"), ("zh-CN", "en")],
)
def test_default_lang_setting(monkeypatch: pytest.MonkeyPatch, value: str, expected: str) -> None:
    """Any value starts the server (as in the reference, which reports it as written); one that
    names none of our languages means English."""
    monkeypatch.setenv("DEFAULT_LANG", value)
    settings = load_settings()
    assert value == settings.DEFAULT_LANG
    assert language(None, settings.DEFAULT_LANG) == expected
