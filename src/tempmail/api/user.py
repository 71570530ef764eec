"""`/user_api`: accounts, and the addresses and mails a logged-in user holds (API.md §6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from tempmail.accounts.roles import USER_NOT_FOUND
from tempmail.accounts.users import (
    ADDRESS_NOT_FOUND,
    ALREADY_BOUND,
    CODE_ALREADY_SENT,
    DOMAIN_NOT_ALLOWED,
    INVALID_ADDRESS_OR_USER,
    INVALID_LOGIN,
    INVALID_VERIFY_CODE,
    MAX_COUNT,
    NO_ADDRESS_OR_USER,
    NOT_BOUND,
    PATTERN_MISMATCH,
    REGISTRATION_DISABLED,
    SEND_CODE_FAILED,
    TARGET_NOT_FOUND,
    USER_EXISTS,
    VERIFY_CODE_TTL,
    VERIFY_SENDER_NOT_SET,
    UserClaim,
)
from tempmail.api.examples import ADDRESS_ROW, MAIL_EXAMPLE
from tempmail.errors import DELETE_DISABLED, ApiError
from tempmail.http.auth import RoleDep, SignedUserDep, UserDep, bearer_token, signed_user
from tempmail.http.context import ServicesDep, services_of
from tempmail.http.fast_lane import JsonBody
from tempmail.http.lax import OptionalLaxId
from tempmail.http.openapi import answers
from tempmail.http.paging import MAX_ID, IdPath, PagingDep, PagingOrFirstPageDep, page_json, paging
from tempmail.inbound.views import mail_row

router = APIRouter(prefix="/user_api", tags=["user"])

# Examples of the answers, for /openapi.json.
SUCCESS = {"success": True}
JWT_ANSWER = {"jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl"}
# The allow-list and pattern rules of the registration settings (`check_email_rules`).
EMAIL_RULES = [DOMAIN_NOT_ALLOWED, PATTERN_MISMATCH]
# A valid user token whose account may be gone: the routes that answer `400 User not found`.
SignedUser = Annotated[UserClaim, Depends(signed_user)]


class VerifyCodeBody(BaseModel):
    email: str | None = None
    cf_token: str | None = None


class RegisterBody(BaseModel):
    email: str | None = None
    password: str | None = None
    code: str | None = None
    cf_token: str | None = None


class LoginBody(BaseModel):
    email: str | None = None
    password: str | None = None


class AddressIdBody(BaseModel):
    address_id: OptionalLaxId = None


class TransferBody(BaseModel):
    address_id: OptionalLaxId = None
    target_user_email: str | None = None


def _address_id(value: int | None) -> int:
    if value is None or not 1 <= value <= MAX_ID:
        raise ApiError(400, "Invalid input: {detail}", detail="address_id: required, a positive integer")
    return value


@router.get(
    "/open_settings",
    responses=answers(
        ok={
            "enable": True,
            "enableMailVerify": False,
            "oauth2ClientIDs": [{"clientID": "client-id", "name": "GitHub", "icon": ""}],
        }
    ),
)
async def open_settings(services: ServicesDep) -> dict[str, Any]:
    rules = await services.users.rules()
    providers = await services.oauth2.providers()
    return {
        "enable": rules.enable,
        "enableMailVerify": rules.enableMailVerify,
        "oauth2ClientIDs": [
            {"clientID": provider.clientID, "name": provider.name, "icon": provider.icon}
            for provider in providers
        ],
    }


@router.post(
    "/verify_code",
    responses=answers(
        {
            403: REGISTRATION_DISABLED,
            400: [INVALID_LOGIN, VERIFY_SENDER_NOT_SET, *EMAIL_RULES, CODE_ALREADY_SENT, SEND_CODE_FAILED],
        },
        ok={"success": True, "expirationTtl": VERIFY_CODE_TTL},
    ),
)
async def verify_code(body: VerifyCodeBody, services: ServicesDep) -> dict[str, Any]:
    return await services.users.send_verify_code(body.email)


@router.post(
    "/register",
    responses=answers(
        {403: REGISTRATION_DISABLED, 400: [INVALID_LOGIN, *EMAIL_RULES, USER_EXISTS, INVALID_VERIFY_CODE]},
        ok=SUCCESS,
    ),
)
async def register(body: RegisterBody, services: ServicesDep) -> dict[str, Any]:
    await services.users.register(body.email, body.password, body.code)
    return {"success": True}


@router.post("/login", responses=answers({400: [INVALID_LOGIN, USER_NOT_FOUND]}, ok=JWT_ANSWER))
async def login(body: LoginBody, services: ServicesDep) -> dict[str, Any]:
    return {"jwt": await services.users.login(body.email, body.password)}


@router.get(
    "/settings",
    responses=answers(
        {400: USER_NOT_FOUND},
        ok={
            "user_email": "user@example.com",
            "user_id": 1,
            "exp": 1798908853,
            "iat": 1796316853,
            "is_admin": False,
            "access_token": None,
            "new_user_token": None,
            "user_role": {"role": "vip", "domains": ["example.org"], "prefix": "vip"},
        },
    ),
)
async def settings(claim: SignedUser, services: ServicesDep) -> dict[str, Any]:
    return await services.users.settings_of(claim)


@router.get(
    "/bind_address",
    responses=answers(
        ok={
            "results": [ADDRESS_ROW],
            "count": 1,
        }
    ),
)
async def bound_addresses(
    user: UserDep, paging: PagingOrFirstPageDep, services: ServicesDep
) -> dict[str, Any]:
    return page_json(await services.users.bound_page(user.user_id, paging.limit, paging.offset))


@router.post(
    "/bind_address",
    responses=answers(
        {400: [NO_ADDRESS_OR_USER, ADDRESS_NOT_FOUND, USER_NOT_FOUND, MAX_COUNT, ALREADY_BOUND]}, ok=SUCCESS
    ),
)
async def bind_address(
    request: Request, user: SignedUser, role_name: RoleDep, services: ServicesDep
) -> dict[str, Any]:
    """The address comes as its JWT (`Authorization: Bearer`); no valid one is the reference's
    `No address or user token`; the role token's role (else the stored one) sets the limit."""
    address = services.tokens.read_address(bearer_token(request))
    if address is None:
        raise ApiError(400, NO_ADDRESS_OR_USER)
    if not await services.addresses.is_live(address.address_id, address.address):
        raise ApiError(400, ADDRESS_NOT_FOUND)
    role = role_name or await services.roles.role_of(user.user_id)
    await services.users.bind(user.user_id, address.address_id, role)
    return {"success": True}


@router.post(
    "/unbind_address", responses=answers({400: [INVALID_ADDRESS_OR_USER, ADDRESS_NOT_FOUND]}, ok=SUCCESS)
)
async def unbind_address(body: AddressIdBody, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    await services.users.unbind(user.user_id, body.address_id)
    return {"success": True}


@router.get("/bind_address_jwt/{address_id}", responses=answers({400: NOT_BOUND}, ok=JWT_ANSWER))
async def bound_address_jwt(address_id: IdPath, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    return await services.users.address_jwt(user.user_id, address_id)


@router.post(
    "/transfer_address",
    responses=answers(
        {400: [ADDRESS_NOT_FOUND, USER_NOT_FOUND, TARGET_NOT_FOUND, MAX_COUNT, NOT_BOUND]}, ok=SUCCESS
    ),
)
async def transfer_address(body: TransferBody, user: SignedUser, services: ServicesDep) -> dict[str, Any]:
    await services.users.transfer(user.user_id, _address_id(body.address_id), body.target_user_email)
    return {"success": True}


MAILS_PATH = "/user_api/mails"
MAX_ADDRESS_LENGTH = 320


@router.get(
    "/mails",
    responses=answers(
        ok={
            "results": [MAIL_EXAMPLE],
            "count": 1,
        }
    ),
)
async def mails(
    user: SignedUserDep,
    paging: PagingDep,
    services: ServicesDep,
    address: Annotated[
        str | None,
        Query(
            max_length=MAX_ADDRESS_LENGTH,
            description="Only this address's mails; one that is not the user's gives an empty page.",
        ),
    ] = None,
) -> dict[str, Any]:
    """GETs come through `mails_answer` (see `tempmail.http.fast_lane`)."""
    page = await services.users.mail_page(user, paging.limit, paging.offset, address)
    return page_json(page, mail_row)


async def mails_answer(request: Request) -> Response | None:
    """`mails` with its dependencies resolved in their order; an `address` too long is left to
    the framework, which answers it as every invalid parameter."""
    address = request.query_params.get("address")
    if address is not None and len(address) > MAX_ADDRESS_LENGTH:
        return None
    services = services_of(request)
    user = await signed_user(request, services)
    return JsonBody(await mails(user, await paging(request), services, address))


@router.delete("/mails/{mail_id}", responses=answers({403: DELETE_DISABLED}, ok=SUCCESS))
async def delete_mail(mail_id: IdPath, user: UserDep, services: ServicesDep) -> dict[str, Any]:
    services.mailbox.ensure_owner_deletes()
    await services.users.delete_mail(user.user_id, mail_id)
    return {"success": True}
