"""`/api`: what an address's owner does with its address JWT (API.md §4, Address)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel

from tempmail.accounts.addresses import (
    ANONYMOUS_DISABLED,
    BLOCKED,
    CHANGE_DISABLED,
    CREATE_DISABLED,
    DOMAINS_NOT_SET,
    FAILED,
    LOGIN_DISABLED,
    LOGIN_REQUIRED,
    NewAddress,
)
from tempmail.accounts.roles import USER_NOT_FOUND
from tempmail.accounts.users import ADDRESS_NOT_FOUND, INVALID_LOGIN, MAX_COUNT, NEW_PASSWORD_REQUIRED
from tempmail.api.examples import EXAMPLE_ADDRESS, EXAMPLE_JWT, MAIL_EXAMPLE
from tempmail.errors import DELETE_DISABLED, ApiError
from tempmail.http.auth import AddressDep, RoleDep, SignedAddressDep, signed_address
from tempmail.http.client_ip import creator_ip
from tempmail.http.context import ServicesDep, services_of
from tempmail.http.fast_lane import JsonBody
from tempmail.http.lax import LaxBool
from tempmail.http.openapi import answers
from tempmail.http.paging import MAX_ID, IdPath, PagingDep, page_json, paging
from tempmail.inbound.views import mail_row, parsed_rows

router = APIRouter(prefix="/api", tags=["address"])

INVALID_ADDRESS = "Invalid address"
SUCCESS = {"success": True}
DELETE_REFUSED = answers({403: DELETE_DISABLED}, ok=SUCCESS)
PARSED_MAIL_EXAMPLE: dict[str, Any] = {
    **{key: value for key, value in MAIL_EXAMPLE.items() if key != "raw"},
    "sender": "alice@sender.example",
    "subject": "Hello",
    "text": "Hi!",
    "html": "",
    "attachments": [],
}


class NewAddressBody(BaseModel):
    name: str | None = None
    domain: str | None = None
    cf_token: str | None = None
    enableRandomSubdomain: LaxBool = False
    # Ours (the reference has no such field): with a valid `x-user-token`, bind the new address
    # to that user within the role's limit, as the web UI's account page asks.
    bindToUser: LaxBool = False


class AddressLoginBody(BaseModel):
    email: str | None = None
    password: str | None = None
    cf_token: str | None = None


class ChangePasswordBody(BaseModel):
    new_password: str | None = None


@router.post(
    "/new_address",
    responses=answers(
        {
            403: [ANONYMOUS_DISABLED, CREATE_DISABLED],
            400: [FAILED, BLOCKED, DOMAINS_NOT_SET, MAX_COUNT, ADDRESS_NOT_FOUND, USER_NOT_FOUND],
        },
        ok=NewAddress(EXAMPLE_JWT, EXAMPLE_ADDRESS, "Xw3yV9pQa2LmT5sR", 1).as_json(),
    ),
)
async def new_address(
    request: Request,
    services: ServicesDep,
    role_name: RoleDep,
    body: NewAddressBody | None = None,
    x_user_token: Annotated[
        str | None,
        Header(description="A user's JWT: create the address as that user (a bad one counts as none)."),
    ] = None,
) -> dict[str, Any]:
    """Anonymous, or with `x-user-token` a logged-in creation (an invalid token counts as none,
    as in the reference): the user's stored role gives domains and prefix, the role token's role
    (else the stored one) the address-count limit, checked only when anonymous creation is off
    (or when we bind)."""
    body = body or NewAddressBody()
    user = await services.users.live_claim(x_user_token)
    stored_role = await services.roles.role_of(user.user_id) if user is not None else None
    check_room = None
    if user is not None and (services.settings.DISABLE_ANONYMOUS_USER_CREATE_EMAIL or body.bindToUser):
        check_room = partial(services.users.check_room, user.user_id, role_name or stored_role)
    created = await services.addresses.create_public(
        name=body.name,
        domain=body.domain,
        random_subdomain=body.enableRandomSubdomain,
        source_meta=creator_ip(request, services.settings.TRUSTED_PROXIES),
        logged_in=user is not None,
        role=services.roles.config_of(stored_role),
        check_room=check_room,
    )
    if user is not None and body.bindToUser:
        await services.users.bind(user.user_id, created.address_id, role_name or stored_role)
    return created.as_json()


@router.post(
    "/address_login",
    responses=answers(
        {403: LOGIN_DISABLED, 400: LOGIN_REQUIRED, 404: ADDRESS_NOT_FOUND, 401: INVALID_LOGIN},
        ok={"jwt": EXAMPLE_JWT, "address": EXAMPLE_ADDRESS},
    ),
)
async def address_login(body: AddressLoginBody, services: ServicesDep) -> dict[str, Any]:
    return await services.addresses.login(body.email, body.password)


@router.post(
    "/address_change_password",
    responses=answers({403: CHANGE_DISABLED, 400: NEW_PASSWORD_REQUIRED, 404: ADDRESS_NOT_FOUND}, ok=SUCCESS),
)
async def address_change_password(
    body: ChangePasswordBody, claim: AddressDep, services: ServicesDep
) -> dict[str, Any]:
    await services.addresses.change_password(claim.address_id, body.new_password)
    return SUCCESS


@router.get(
    "/settings",
    responses=answers({400: INVALID_ADDRESS}, ok={"address": EXAMPLE_ADDRESS, "send_balance": 0}),
)
async def settings(claim: SignedAddressDep, role: RoleDep, services: ServicesDep) -> dict[str, Any]:
    if not await services.addresses.is_live(claim.address_id, claim.address):
        raise ApiError(400, INVALID_ADDRESS)
    await services.addresses.touch(claim.address_id)
    return {"address": claim.address, "send_balance": await services.sending.balance(claim.address, role)}


MAILS_PATH = "/api/mails"


MAX_WAIT_SECONDS = 120
INVALID_WAIT = "Invalid wait"
INVALID_AFTER = "Invalid after"
WaitQuery = Annotated[
    str | None,
    Query(
        description=f"Long poll: hold the first page up to this many seconds (at most {MAX_WAIT_SECONDS}) "
        "until it holds a mail newer than `after`, or than the newest one when asked.",
    ),
]
AfterQuery = Annotated[str | None, Query(description="With `wait`: the newest mail id the client has.")]


def _long_poll(wait: str | None, after: str | None) -> tuple[float, int | None]:
    """`wait` seconds (0: answer at once) and the `after` id, or a 400 naming the bad one."""
    try:
        seconds = float(wait) if wait not in (None, "") else 0.0
    except ValueError:
        raise ApiError(400, INVALID_WAIT) from None
    if not 0 <= seconds <= MAX_WAIT_SECONDS:  # also NaN
        raise ApiError(400, INVALID_WAIT)
    if after in (None, ""):
        return seconds, None
    if not after.isascii() or not after.isdigit() or int(after) > MAX_ID:
        raise ApiError(400, INVALID_AFTER)
    return seconds, int(after)


@router.get(
    "/mails",
    responses=answers({400: [INVALID_WAIT, INVALID_AFTER]}, ok={"results": [MAIL_EXAMPLE], "count": 1}),
)
async def mails(
    claim: SignedAddressDep,
    paging: PagingDep,
    services: ServicesDep,
    wait: WaitQuery = None,
    after: AfterQuery = None,
) -> dict[str, Any]:
    """The inbox poll (GETs come through `mails_answer`, see `tempmail.http.fast_lane`); with
    `wait`, a long poll of the first page that answers as soon as a new mail is stored."""
    seconds, after_id = _long_poll(wait, after)
    read = partial(services.mailbox.inbox, claim.address_id, claim.address, paging.limit, paging.offset)
    if seconds and paging.offset == 0:
        return page_json(await services.live.when_new(claim.address, seconds, after_id, read), mail_row)
    return page_json(await read(), mail_row)


async def mails_answer(request: Request) -> Response:
    """`mails` with its dependencies resolved in their order: the credential, then the paging."""
    services = services_of(request)
    claim = await signed_address(request, services)
    query = request.query_params
    return JsonBody(
        await mails(claim, await paging(request), services, query.get("wait"), query.get("after"))
    )


@router.get("/mail/{mail_id}", responses=answers(ok=MAIL_EXAMPLE))
async def mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mailbox.get(mail_id, owner=claim.address)
    return mail_row(row) if row is not None else None


@router.delete("/mails/{mail_id}", responses=DELETE_REFUSED)
async def delete_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.mailbox.delete(mail_id, owner=claim.address)
    return SUCCESS


@router.get("/parsed_mails", responses=answers(ok={"results": [PARSED_MAIL_EXAMPLE], "count": 1}))
async def parsed_mails(claim: SignedAddressDep, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    page = await services.mailbox.inbox(claim.address_id, claim.address, paging.limit, paging.offset)
    return {"results": await parsed_rows(page.results), "count": page.count}


@router.get("/parsed_mail/{mail_id}", responses=answers(ok=PARSED_MAIL_EXAMPLE))
async def parsed_mail(mail_id: IdPath, claim: AddressDep, services: ServicesDep) -> dict[str, Any] | None:
    row = await services.mailbox.get(mail_id, owner=claim.address)
    return (await parsed_rows([row]))[0] if row is not None else None


@router.delete("/delete_address", responses=DELETE_REFUSED)
async def delete_address(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.addresses.delete(claim.address_id)
    return SUCCESS


@router.delete("/clear_inbox", responses=DELETE_REFUSED)
async def clear_inbox(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.mailbox.clear(claim.address)
    return SUCCESS


@router.delete("/clear_sent_items", responses=DELETE_REFUSED)
async def clear_sent_items(claim: AddressDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.sending.clear_sent(claim.address)
    return SUCCESS
