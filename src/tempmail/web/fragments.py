"""What the address, user and admin fragment routes share: mail lists and the mail reader.

The three differ only in which credential they take and which JSON routes their buttons call;
a `Scope` carries that difference, `add_reader_routes` registers the reader once per scope.

No `from __future__ import annotations` here: FastAPI must see the real types of the route
functions made inside `add_reader_routes`, whose dependency alias is a local name.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import HTMLResponse, Response

from tempmail.errors import ApiError
from tempmail.http.paging import PageOfRows, PagingDep
from tempmail.inbound.views import mail_row
from tempmail.web.mailview import attachment_of, mail_summaries, mail_view
from tempmail.web.render import SECURITY_HEADERS, render

MAX_ATTACHMENTS = 10_000


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose mail is shown: where its fragments live and which JSON route deletes one mail."""

    ui: str
    delete_prefix: str
    can_reply: bool


ADDRESS = Scope(ui="/ui", delete_prefix="/api/mails/", can_reply=True)
USER = Scope(ui="/ui/user", delete_prefix="/user_api/mails/", can_reply=False)
ADMIN = Scope(ui="/ui/admin", delete_prefix="/admin/mails/", can_reply=False)


def page_url(request: Request, offset: int) -> str:
    """This fragment's URL at another offset (the pager's links)."""
    params = {**request.query_params, "offset": str(offset)}
    return f"{request.url.path}?{urlencode(params)}"


def pager(request: Request, page: PageOfRows, paging: PagingDep) -> dict[str, Any]:
    """Newer/older links; `count` is only known on the first page (the API's paging rule)."""
    older = paging.offset + paging.limit if len(page.results) == paging.limit else None
    newer = max(paging.offset - paging.limit, 0) if paging.offset > 0 else None
    return {
        "offset": paging.offset,
        "count": page.count if paging.offset == 0 else None,
        "older": page_url(request, older) if older is not None else None,
        "newer": page_url(request, newer) if newer is not None else None,
    }


async def mail_list(request: Request, scope: Scope, page: PageOfRows, paging: PagingDep) -> HTMLResponse:
    summaries = await mail_summaries(page.results)
    return render(
        request,
        "fragments/mail_list.html",
        mails=summaries,
        scope=scope,
        pager=pager(request, page, paging),
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
        view = await mail_view(row, remote_images=images)
        return render(request, "fragments/reader.html", mail=view, scope=scope, images=images)

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
