"""An address's fragments (`/ui/...`): its inbox, the reader, the send form, the sent box and
its settings, behind the address JWT like `/api`."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from tempmail.errors import ApiError
from tempmail.http.auth import AddressDep, RoleDep
from tempmail.http.context import ServicesDep
from tempmail.http.errors import request_language
from tempmail.http.paging import IdPath, PagingDep
from tempmail.web.fragments import ADDRESS, add_reader_routes, mail_list, pager
from tempmail.web.mailview import forward_draft, mail_view, reply_draft, sent_item
from tempmail.web.pages import ReplyTo
from tempmail.web.render import render

router = APIRouter(prefix="/ui", include_in_schema=False)

# Checked by the search itself (`tempmail.inbound.search.needle_of`).
SearchText = Annotated[str, Query()]


@router.get("/mails")
async def address_mails(
    request: Request, claim: AddressDep, paging: PagingDep, services: ServicesDep, q: SearchText = ""
) -> HTMLResponse:
    """Like `/api/mails` (reading the first page counts as activity of the address), or with
    `q` like `/api/search`."""
    if q.strip():
        page = await services.search.search(claim.address, q, paging.limit, paging.offset)
        return await mail_list(request, ADDRESS, page, paging, query=q)
    page = await services.mailbox.inbox(claim.address_id, claim.address, paging.limit, paging.offset)
    count_of = partial(services.mailbox.inbox, claim.address_id, claim.address, 1, 0)
    return await mail_list(request, ADDRESS, page, paging, count_of)


async def _address_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> Any:
    row = await services.mailbox.get(mail_id, owner=claim.address)
    if row is None:
        raise ApiError(404, "Not Found")
    return row


add_reader_routes(router, ADDRESS, _address_mail)


@router.get("/compose")
async def compose_form(
    request: Request, claim: AddressDep, services: ServicesDep, reply: ReplyTo = None, forward: ReplyTo = None
) -> HTMLResponse:
    """The send form, filled in to answer the inbox mail `reply` or to forward the mail
    `forward` when given; a note instead when no relay serves this address's domain."""
    wanted = reply or forward
    original = await _address_mail(wanted, claim, services) if wanted is not None else None
    view = await mail_view(original, remote_images=False) if original is not None else None
    return render(
        request,
        "fragments/compose_form.html",
        address=claim.address,
        can_send=services.sending.can_send_from(claim.address),
        reply=view if reply else None,
        draft=forward_draft(view) if view is not None and forward else reply_draft(view),
    )


@router.get("/sendbox")
async def address_sendbox(
    request: Request, claim: AddressDep, paging: PagingDep, services: ServicesDep
) -> HTMLResponse:
    page = await services.sending.sent_page(paging.limit, paging.offset, owner=claim.address)
    return render(
        request,
        "fragments/sendbox.html",
        items=[sent_item(row) for row in page.results],
        delete_prefix="/api/sendbox/",
        pager=pager(request, page, paging),
    )


async def _optional_feature(request: Request, load: Any) -> tuple[Any, str]:
    """(settings, "") or (None, why not): a feature the operator switched off answers 403,
    and the form says so instead of failing the whole page."""
    try:
        return await load, ""
    except ApiError as exc:
        return None, exc.text(request_language(request))


@router.get("/settings")
async def address_settings(
    request: Request, claim: AddressDep, role: RoleDep, services: ServicesDep
) -> HTMLResponse:
    auto_reply, auto_reply_off = await _optional_feature(request, services.auto_reply.get(claim.address))
    webhook, webhook_off = await _optional_feature(request, services.webhooks.address_setting(claim.address))
    return render(
        request,
        "fragments/address_settings.html",
        address=claim.address,
        balance=await services.sending.balance(claim.address, role),
        auto_reply=auto_reply,
        auto_reply_off=auto_reply_off,
        webhook=webhook.model_dump() if webhook is not None else None,
        webhook_off=webhook_off,
    )
