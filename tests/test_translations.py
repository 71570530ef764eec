"""Every text tempmail can show exists in all six languages, with the English's placeholders.

The texts are found in the code as it is, not listed by hand: every `t("...")` of the templates
and of `tempmail.web`'s Python (and the key-style texts of the UI's English table, which the
templates build as `t("admin:" ~ name)`), and every error template an `ApiError` is raised with
anywhere under `src/tempmail` (with its constant resolved), plus the reference's table. A new
text without its translations fails here, naming the text and the language.

Re-run after adding texts: `.venv/bin/pytest -q tests/test_translations.py -p no:cacheprovider`.
"""

from __future__ import annotations

import ast
import importlib
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

import tempmail
from tempmail import errors
from tempmail.locales import LANGUAGES, catalog
from tempmail.web import i18n

SRC = Path(tempmail.__file__).parent
TEMPLATES = SRC / "web" / "templates"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]

# The reference's texts outside its table, which it answers in English whatever the language
# (COMPAT §2: "English-only in every language", the IP-control texts of §4, the HTTP reason
# phrases of API.md's `404 Not Found`), and texts with nothing to translate. Clients match on
# them, so they stay English in every language; their variable parts are still translated.
ENGLISH_EVERYWHERE = {
    "Name[{name}]is blocked",
    "Invalid config key",
    "Config value must be a string",
    "Not available",
    "address and raw are required",
    "raw content too large",
    "message_id too long",
    "from, to and raw are required",
    "Failed to send mail {inner}",
    "send webhook error: {reason}",
    "Access denied: IP {ip} is blacklisted",
    "Access denied: IP {ip} is not whitelisted",
    "Access denied: Browser fingerprint is blacklisted",
    "Access denied: client IP unavailable",
    "IP={ip} Exceeded daily limit of {limit} requests",
    "Not Found",
    "Method Not Allowed",
    "[{name}]: {inner}",
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _template_calls() -> Iterator[tuple[str, nodes.Call]]:
    env = Environment()
    for path in sorted(TEMPLATES.rglob("*.html")):
        for call in env.parse(path.read_text(encoding="utf-8")).find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "t" and call.args:
                yield path.name, call


def ui_texts() -> dict[str, str]:
    """Each UI text (its key) and its English: those of the code, and every key the UI's
    Chinese table has."""
    found: dict[str, str] = {}
    for _, call in _template_calls():
        text = call.args[0]
        if isinstance(text, nodes.Const) and isinstance(text.value, str):
            found[text.value] = text.value
        elif isinstance(text, nodes.Concat) and isinstance(text.nodes[0], nodes.Const):
            prefix = text.nodes[0].value
            found |= {key: i18n.EN[key] for key in i18n.EN if key.startswith(prefix)}
    for path in sorted((SRC / "web").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found[node.args[0].value] = node.args[0].value
    # What the UI shows by a key the code computes (a link's kind) is found by its Chinese.
    found |= {key: i18n.EN.get(key, key) for key in i18n.ZH}
    found |= i18n.EN
    return found


def api_templates() -> set[str]:
    """Each template an ApiError is raised with (a literal, or a constant of its module), and
    the reference's table (whose composites are raised as inner texts)."""
    found = set(errors.ZH)
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "ApiError"
            and len(node.args) > 1
            and isinstance(node.args[1], (ast.Constant, ast.Name, ast.Attribute))
        ]
        if not calls:
            continue
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        module = importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        for call in calls:
            try:
                value = eval(compile(ast.Expression(call.args[1]), str(path), "eval"), vars(module))
            except NameError:  # a local variable (a step's text, an exception's): no template
                continue
            if isinstance(value, str):
                found.add(value)
    return found


def test_the_scanners_find_texts() -> None:
    assert {"Inbox", "admin:users", "Copied"} <= set(ui_texts())
    assert {"Invalid limit", "Invalid wait", "Failed to create address: {inner}"} <= api_templates()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_ui_text_is_translated(lang: str) -> None:
    table = i18n.ZH if lang == "zh" else catalog(lang).ui
    missing = sorted(key for key in ui_texts() if not table.get(key))
    assert not missing, f"UI texts without {lang}: add them to {_home(lang, 'ui')}: {missing}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_api_error_is_translated(lang: str) -> None:
    table = errors.table(lang)
    missing = sorted(text for text in api_templates() - ENGLISH_EVERYWHERE if not table.get(text))
    assert not missing, f"error texts without {lang}: add them to {_home(lang, 'api')}: {missing}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_english_only_texts_stay_english(lang: str) -> None:
    assert sorted(ENGLISH_EVERYWHERE & set(errors.table(lang))) == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_match_the_english(lang: str) -> None:
    english = ui_texts()
    ui = i18n.ZH if lang == "zh" else catalog(lang).ui
    wrong = [
        (key, text)
        for key, text in ui.items()
        if placeholders(text) != placeholders(english.get(key, i18n.EN.get(key, key)))
    ]
    wrong += [
        (key, text) for key, text in errors.table(lang).items() if placeholders(text) != placeholders(key)
    ]
    assert wrong == []


def test_the_reference_texts_are_untouched() -> None:
    """tempmail's own Chinese error texts never shadow the reference's (COMPAT §2)."""
    assert sorted(set(catalog("zh").api) & set(errors.ZH)) == []
    assert all(errors.table("zh")[key] == text for key, text in errors.ZH.items())


def _home(lang: str, part: str) -> str:
    if lang == "zh":
        return "tempmail/web/i18n.py ZH" if part == "ui" else "tempmail/locales/zh.json"
    return f"tempmail/locales/{lang}.json ({part!r})"


def test_key_style_texts_have_english() -> None:
    for _, call in _template_calls():
        text = call.args[0]
        if isinstance(text, nodes.Concat) and isinstance(text.nodes[0], nodes.Const):
            prefix = text.nodes[0].value
            assert any(key.startswith(prefix) for key in i18n.EN), prefix
    assert sorted(key for key in i18n.ZH if re.fullmatch(r"\w+:\w+", key) and key not in i18n.EN) == []
