"""The translations of tempmail's texts, for the API's error texts and the web UI alike.

Every text is keyed by its English words (an error template of `tempmail.errors`, a UI text of
`t("...")`), so English needs no table and a text that lacks a translation still reads
correctly. Chinese keeps its two older homes, because both are fixed points: the reference's
own error texts in `tempmail.errors` (byte for byte, COMPAT §2) and the UI's table in
`tempmail.web.i18n`; `zh.json` holds only the error texts tempmail has beyond the reference's.
The other languages have one file each, `{"api": {...}, "ui": {...}}`, so a translator works in
one place. This package sits below everything that shows a text, and imports nothing of ours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent

# In the order the language switch offers them, each by its own name.
NATIVE_NAMES: dict[str, str] = {
    "zh": "中文",
    "en": "English",
    "es": "Español",
    "pt-BR": "Português (Brasil)",
    "ja": "日本語",
    "de": "Deutsch",
}
LANGUAGES = tuple(NATIVE_NAMES)
# Other names `x-lang` and DEFAULT_LANG accept for a language; the rest must be exact (only
# exactly `zh` is Chinese, as in the reference).
ALIASES = {"pt-br": "pt-BR", "pt": "pt-BR"}


def canonical(name: str) -> str | None:
    """The language `name` stands for (`pt` -> `pt-BR`), or None when it names none of ours."""
    return name if name in NATIVE_NAMES else ALIASES.get(name)


@dataclass(frozen=True)
class Catalog:
    """One language's texts: `api` the error templates, `ui` the web UI's texts."""

    api: Mapping[str, str] = field(default_factory=dict)
    ui: Mapping[str, str] = field(default_factory=dict)


@cache
def catalog(lang: str) -> Catalog:
    """The texts of `lang` (a value of LANGUAGES; anything else, and English, has none)."""
    path = HERE / f"{lang}.json"
    if lang not in NATIVE_NAMES or not path.is_file():
        return Catalog()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Catalog(api=data.get("api", {}), ui=data.get("ui", {}))
