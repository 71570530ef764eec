"""The language switch, in Chromium: each of the six languages, picked on the page, gives the
page in it (`<html lang>`, the navigation) and API errors in it (the UI sends `x-lang`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support import Server

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# lang: (<html lang>, the navigation's "Inbox", the toast of `404 Address not found`)
LANGUAGES = {
    "zh": ("zh-CN", "收件箱", "邮箱地址不存在"),
    "en": ("en", "Inbox", "Address not found"),
    "es": ("es", "Bandeja de entrada", "No se encontró la dirección"),
    "pt-BR": ("pt-BR", "Caixa de entrada", "Endereço não encontrado"),
    "ja": ("ja", "受信トレイ", "アドレスが見つかりません"),
    "de": ("de", "Posteingang", "Adresse nicht gefunden"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_switch_to_each_language(chromium: Browser, ui_server: Server, lang: str) -> None:
    from playwright.sync_api import expect

    html_lang, inbox, not_found = LANGUAGES[lang]
    # A browser that asks for none of them (so the choice is the switch's, not Accept-Language's).
    context = chromium.new_context(locale="fr-FR" if lang != "en" else "it-IT")
    page = context.new_page()
    page.goto(ui_server.base_url + "/")
    switch = page.locator("#lang-switch")
    assert switch.locator("option").all_inner_texts() == [
        "中文",
        "English",
        "Español",
        "Português (Brasil)",
        "日本語",
        "Deutsch",
    ]
    switch.select_option(lang)
    expect(page.locator("html")).to_have_attribute("lang", html_lang)
    expect(page.locator(".mainnav").get_by_role("link", name=inbox, exact=True)).to_be_visible()
    expect(switch).to_have_value(lang)

    page.locator("[data-new-address] details > summary").click()
    login = page.locator('form[hx-post="/api/address_login"]')
    login.locator("input[name=email]").fill("nobody-here@test.example")
    login.locator("input[name=password]").fill("wrong")
    login.locator("button").click()
    expect(page.locator("#toasts")).to_contain_text(not_found)

    page.goto(ui_server.base_url + "/compose")
    expect(page.locator("html")).to_have_attribute("lang", html_lang)
    context.close()
