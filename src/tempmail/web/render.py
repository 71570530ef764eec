"""Rendering UI responses: the Jinja2 environment, content negotiation and security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tempmail import __version__
from tempmail.http.context import services_of
from tempmail.locales import NATIVE_NAMES
from tempmail.web.i18n import pick_lang, translator, weighted

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
THEMES = ("light", "dark")

# A srcdoc iframe inherits the policy of the page that embeds it (CSP3 policy containers), and
# policies only ever add restrictions. So the page must allow what a mail may use once the
# person allows it (inline styles, remote images); the mail's own meta policy and the sandbox
# (no scripts, opaque origin) are what hold the mail back. Scripts stay 'self' only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https: http:",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Fragments carry mail; pages are cheap. Nothing of the UI belongs in a shared cache.
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def prefers_html(accept: str) -> bool:
    """True when an Accept header ranks HTML above plain text: browsers get the UI at `/`,
    while curl (`*/*`), probes and API clients keep the `OK` health answer. A tie goes to
    text, the contract's answer."""
    best_html = best_text = 0.0
    for media, q in weighted(accept):
        if media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, q)
        elif media in ("text/plain", "text/*", "*/*"):
            best_text = max(best_text, q)
    return best_html > best_text


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page or fragment in the request's language and theme, with the UI's security headers."""
    settings = services_of(request).settings
    lang = pick_lang(
        request.cookies.get("lang"), request.headers.get("accept-language", ""), settings.DEFAULT_LANG
    )
    theme = request.cookies.get("theme", "")
    html = _env.get_template(template).render(
        t=translator(lang),
        lang=lang,
        languages=NATIVE_NAMES,
        theme=theme if theme in THEMES else "",
        version=__version__,
        site_title=settings.TITLE or "tempmail",
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={**SECURITY_HEADERS, "Vary": "Accept, Cookie"})
