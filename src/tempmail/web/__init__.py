"""The web UI: Jinja2 pages and htmx fragments over the same services as the JSON API.

Credentials never live on the server side of the UI: the browser keeps them (localStorage) and
`static/app.js` sends them as the API's own headers, so every fragment route is guarded by the
same dependencies as the JSON route it mirrors.
"""

from fastapi import APIRouter

from tempmail.web import address_ui, admin, admin_console, admin_telegram, pages, user_ui

ROUTER = APIRouter()
for _group in (
    pages.router,
    address_ui.router,
    user_ui.router,
    admin.router,
    admin_console.router,
    admin_telegram.router,
):
    ROUTER.include_router(_group)
