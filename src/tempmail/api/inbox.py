"""`/api` routes of ours for an inbox as mail UIs show it (issue 19): search, the unread count,
marking mail read or unread. The reference has none of them; its routes keep their shapes (a
search answers `{results, count}` with the rows of `/api/mails`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tempmail.api.examples import MAIL_EXAMPLE
from tempmail.http.auth import AddressDep
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool
from tempmail.http.openapi import answers
from tempmail.http.paging import MAX_ID, MAX_LIMIT, PagingDep, page_json
from tempmail.inbound.search import INVALID_QUERY, MAX_QUERY_CHARS
from tempmail.inbound.views import mail_row

router = APIRouter(prefix="/api", tags=["address"])

SearchQuery = Annotated[
    str | None,
    Query(
        description="Text to find in the sender (name or address), the subject or the text; "
        f"case-insensitive, 1 to {MAX_QUERY_CHARS} characters.",
    ),
]
MailId = Annotated[int, Field(ge=1, le=MAX_ID)]


class SeenBody(BaseModel):
    ids: Annotated[list[MailId], Field(min_length=1, max_length=MAX_LIMIT)]
    seen: LaxBool = True


@router.get(
    "/search",
    responses=answers({400: INVALID_QUERY}, ok={"results": [MAIL_EXAMPLE], "count": 1}),
)
async def search(
    claim: AddressDep, paging: PagingDep, services: ServicesDep, q: SearchQuery = None
) -> dict[str, Any]:
    """The address's mails that contain `q`, newest first, as `/api/mails` answers them; the
    count is given on every page."""
    page = await services.search.search(claim.address, q, paging.limit, paging.offset)
    return page_json(page, mail_row)


@router.get("/unread_count", responses=answers(ok={"count": 3}))
async def unread_count(claim: AddressDep, services: ServicesDep) -> dict[str, int]:
    """How many of the address's mails were never opened (in the web UI or a mail client's
    `\\Seen`) nor marked read."""
    return {"count": await services.read_state.unread(claim.address)}


@router.post("/seen", responses=answers(ok={"success": True}))
async def mark_seen(body: SeenBody, claim: AddressDep, services: ServicesDep) -> dict[str, bool]:
    """Mark these mails of the address read (`seen: true`, the default) or unread; ids that are
    not the address's are left alone. Shared with IMAP's `\\Seen`."""
    await services.read_state.mark(claim.address, body.ids, body.seen)
    return {"success": True}
