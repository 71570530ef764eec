"""What the address, user and admin fragment routes share: mail lists and the mail reader.

The three differ only in which credential they take and which JSON routes their buttons call;
a `Scope` carries that difference, `add_reader_routes` registers the reader once per scope.

No `from __future__ import annotations` here: FastAPI must see the real types of the route
functions made inside `add_reader_routes`, whose dependency alias is a local name.
"""

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import HTMLResponse, Response

from tempmail.errors import ApiError
from tempmail.http.context import services_of
from tempmail.http.paging import PageOfRows, PagingDep
from tempmail.inbound.views import mail_row, stored_raw
from tempmail.web.mailview import attachment_of, mail_summaries, mail_view
from tempmail.web.render import SECURITY_HEADERS, render

MAX_ATTACHMENTS = 10_000
PAGE_SIZES = (10, 20, 50, 100)
# Page numbers shown on each side of the current page (the first and last always are).
PAGE_WINDOW = 2


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose mail is shown: where its fragments live and which JSON route deletes one mail;
    `marks_seen`: opening a mail marks it read for its owner (the owner's own scopes; the admin
    reading someone's mail leaves it unread), `seen_url`: the JSON route that marks a selection."""

    ui: str
    delete_prefix: str
    can_reply: bool
    marks_seen: bool = False
    seen_url: str = ""


ADDRESS = Scope(ui="/ui", delete_prefix="/api/mails/", can_reply=True, marks_seen=True, seen_url="/api/seen")
USER = Scope(ui="/ui/user", delete_prefix="/user_api/mails/", can_reply=False, marks_seen=True)
ADMIN = Scope(ui="/ui/admin", delete_prefix="/admin/mails/", can_reply=False)


def page_url(request: Request, offset: int) -> str:
    """This fragment's URL at another offset (the pager's links)."""
    params = {**request.query_params, "offset": str(offset)}
    return f"{request.url.path}?{urlencode(params)}"


def pager(
    request: Request, page: PageOfRows, paging: PagingDep, count: int | None = None, numbered: bool = False
) -> dict[str, Any]:
    """Newer/older links; `count` is only known on the first page (the API's paging rule)
    unless the caller counted every page, and then asks for the pages' numbers too."""
    older = paging.offset + paging.limit if len(page.results) == paging.limit else None
    newer = max(paging.offset - paging.limit, 0) if paging.offset > 0 else None
    if count is None and paging.offset == 0:
        count = page.count
    return {
        "offset": paging.offset,
        "limit": paging.limit,
        "count": count,
        "older": page_url(request, older) if older is not None and (count is None or older < count) else None,
        "newer": page_url(request, newer) if newer is not None else None,
        "pages": _numbered(request, paging, count) if numbered and count is not None else [],
    }


def _numbered(request: Request, paging: PagingDep, count: int) -> list[tuple[int, str, bool] | None]:
    """(number, URL, current) of the pages to offer, None where numbers are left out."""
    last = max(math.ceil(count / paging.limit), 1)
    current = min(paging.offset // paging.limit + 1, last)
    shown = sorted({1, last, *range(max(current - PAGE_WINDOW, 1), min(current + PAGE_WINDOW, last) + 1)})
    pages: list[tuple[int, str, bool] | None] = []
    for number in shown:
        if pages and pages[-1] is not None and number > pages[-1][0] + 1:
            pages.append(None)
        pages.append((number, page_url(request, (number - 1) * paging.limit), number == current))
    return pages if last > 1 else []


CountOf = Callable[[], Awaitable[PageOfRows]]


async def mail_list(
    request: Request,
    scope: Scope,
    page: PageOfRows,
    paging: PagingDep,
    count_of: CountOf | None = None,
    query: str = "",
) -> HTMLResponse:
    """A page of mail as list lines, read ones marked, numbered pages. Later pages of the list
    routes come uncounted (the API's rule); `count_of` reads a first page to count them. A
    search (`query`) is counted on every page."""
    summaries = await mail_summaries(page.results)
    seen = await services_of(request).read_state.seen([mail.id for mail in summaries])
    count = None
    if query or paging.offset == 0:
        count = page.count
    elif count_of is not None:
        count = (await count_of()).count
    return render(
        request,
        "fragments/mail_list.html",
        mails=[replace(mail, seen=mail.id in seen) for mail in summaries],
        scope=scope,
        pager=pager(request, page, paging, count, numbered=True),
        page_sizes=PAGE_SIZES,
        query=query,
    )


RowDependency = Callable[..., Awaitable[Any]]
AttachmentIndex = Annotated[int, Path(ge=0, le=MAX_ATTACHMENTS)]


def add_reader_routes(router: APIRouter, scope: Scope, row_of: RowDependency) -> None:
    """`/mail/{id}` (the reader), `.../raw` and `.../attachment/{index}` on the scope's router
    (prefixed with `scope.ui`); `row_of` is the dependency that checks the credential and finds
    the mail row."""
    Row = Annotated[Any, Depends(row_of)]

    @router.get("/mail/{mail_id}")
    async def reader(request: Request, row: Row, images: bool = False) -> HTMLResponse:
        """Opening a mail in its owner's scope marks it read (IMAP's `\\Seen`)."""
        view = await mail_view(row, remote_images=images)
        if scope.marks_seen:
            await services_of(request).read_state.mark(str(row.address), [int(row.id)])
        return render(request, "fragments/reader.html", mail=view, scope=scope, images=images)

    @router.get("/mail/{mail_id}/eml")
    async def eml(row: Row) -> Response:
        """The exact bytes received, as a `.eml` file a mail program opens."""
        name = f"mail-{int(row.id)}.eml"
        headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(stored_raw(row), media_type="message/rfc822", headers=headers)

    @router.get("/mail/{mail_id}/raw")
    async def raw_source(request: Request, row: Row) -> HTMLResponse:
        return render(request, "fragments/raw.html", raw=mail_row(row)["raw"] or "")

    @router.get("/mail/{mail_id}/attachment/{index}")
    async def attachment(row: Row, index: AttachmentIndex) -> Response:
        """Always a download of opaque bytes: an HTML or SVG attachment must never render on
        our origin."""
        found = await attachment_of(row, index)
        if found is None:
            raise ApiError(404, "Not Found")
        item, data = found
        name = item.filename or f"attachment-{index + 1}"
        headers = {
            **SECURITY_HEADERS,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        }
        return Response(data, media_type="application/octet-stream", headers=headers)
