"""The language of a page: the `lang` cookie (the switch's), else Accept-Language with its q
weights, else DEFAULT_LANG; over real HTTP on the real app."""

from __future__ import annotations

import re

import pytest

from tempmail.web.i18n import pick_lang
from tests.conftest import ServerFactory
from tests.support import Server

HTML = {"accept": "text/html"}


def page_lang(server: Server, **headers: str) -> str:
    response = server.client.get("/", headers={**HTML, **headers})
    assert response.status_code == 200
    found = re.search(r'<html lang="([^"]+)"', response.text)
    assert found, response.text[:200]
    return found.group(1)


@pytest.mark.parametrize(
    ("cookie", "accept_language", "default", "expected"),
    [
        ("ja", "de", "en", "ja"),
        ("pt-BR", "", "en", "pt-BR"),
        ("xx", "de-AT,de;q=0.9", "en", "de"),
        (None, "pt-PT", "en", "pt-BR"),
        (None, "pt", "en", "pt-BR"),
        (None, "zh-TW,zh;q=0.8", "en", "zh"),
        (None, "es-MX", "en", "es"),
        (None, "fr-FR,fr;q=0.9,ja;q=0.4,es;q=0.3", "en", "ja"),
        (None, "en;q=0.2, de;q=0.7", "zh", "de"),
        (None, "de;q=0", "es", "es"),
        (None, "fr", "pt-BR", "pt-BR"),
        (None, "", "zh", "zh"),
        (None, "*", "en", "en"),
    ],
)
def test_pick_lang(cookie: str | None, accept_language: str, default: str, expected: str) -> None:
    assert pick_lang(cookie, accept_language, default) == expected


def test_cookie_then_accept_language(server: Server) -> None:
    assert page_lang(server, **{"accept-language": "de-DE,de;q=0.9,en;q=0.8"}) == "de"
    assert page_lang(server, **{"accept-language": "en;q=0.5, ja;q=0.9"}) == "ja"
    assert page_lang(server, **{"accept-language": "pt-PT"}) == "pt-BR"
    assert page_lang(server, **{"accept-language": "zh-HK"}) == "zh-CN"
    assert page_lang(server, cookie="lang=es", **{"accept-language": "de"}) == "es"
    assert page_lang(server, cookie="lang=klingon", **{"accept-language": "ja"}) == "ja"
    assert page_lang(server) == "en"


def test_default_lang(make_server: ServerFactory) -> None:
    spanish = make_server(DEFAULT_LANG="es")
    assert page_lang(spanish) == "es"
    assert page_lang(spanish, **{"accept-language": "fr"}) == "es"
    assert page_lang(spanish, **{"accept-language": "de"}) == "de"
    assert page_lang(make_server(DEFAULT_LANG="pt")) == "pt-BR"


@pytest.mark.parametrize(
    ("lang", "inbox", "skip"),
    [
        ("zh", "收件箱", "跳到正文"),
        ("en", "Inbox", "Skip to content"),
        ("es", "Bandeja de entrada", "Saltar al contenido"),
        ("pt-BR", "Caixa de entrada", "Pular para o conteúdo"),
        ("ja", "受信トレイ", "本文へスキップ"),
        ("de", "Posteingang", "Zum Inhalt springen"),
    ],
)
def test_page_in_each_language(server: Server, lang: str, inbox: str, skip: str) -> None:
    """The texts are the language's, and the switch offers all six by their own names, the
    page's own selected."""
    html = server.client.get("/", headers={**HTML, "cookie": f"lang={lang}"}).text
    assert f">{inbox}</a>" in html
    assert f">{skip}</a>" in html
    options = re.findall(r'<option value="([^"]+)" lang="[^"]+"( selected)?>([^<]+)</option>', html)
    assert [(value, name) for value, _, name in options] == [
        ("zh", "中文"),
        ("en", "English"),
        ("es", "Español"),
        ("pt-BR", "Português (Brasil)"),
        ("ja", "日本語"),
        ("de", "Deutsch"),
    ]
    assert [value for value, selected, _ in options if selected] == [lang]
