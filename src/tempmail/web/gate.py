"""Which requests are page shells, open even when a site password (PASSWORDS) is set.

A browser cannot add `x-custom-auth` to a navigation, so a page guarded like the API could never
load to ask for the password. Shells and static files carry no data: every fragment and API call
they make goes through the site password as before, and the page prompts for it.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import Scope

from tempmail.http.site_password import SitePasswordMiddleware
from tempmail.web.render import prefers_html

# Page name -> path. `/` is the inbox for browsers and the health check for everyone else.
PAGES = {
    "inbox": "/",
    "compose": "/compose",
    "address": "/address",
    "user": "/user",
    # Where an OAuth2 provider sends the browser back (the reference's path): the user page,
    # which hands the code to /user_api/oauth2/callback.
    "oauth2_callback": "/user/oauth2/callback",
    "admin": "/admin",
}
STATIC_PREFIX = "/static"
_SHELLS = frozenset(PAGES.values()) - {"/"}


def is_page_shell(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    path: str = scope["path"]
    if path == "/":
        return prefers_html(Headers(scope=scope).get("accept", ""))
    return path in _SHELLS or path.startswith(STATIC_PREFIX + "/")


class SitePasswordExceptPages(SitePasswordMiddleware):
    """The site-password gate of the API, letting page shells and static files through."""

    def exempt(self, scope: Scope) -> bool:
        return is_page_shell(scope) or super().exempt(scope)
