"""`/admin` routes for accounts: registration rules, users, roles and their bindings (API.md §6)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, WithJsonSchema

from tempmail.accounts.addresses import LOGIN_REQUIRED
from tempmail.accounts.roles import INVALID_MAX_COUNT, INVALID_ROLE, INVALID_USER_ID, USER_NOT_FOUND
from tempmail.accounts.users import (
    ADDRESS_NOT_FOUND,
    ALREADY_BOUND,
    DEFAULT_MAX_ADDRESS_COUNT,
    INVALID_LOGIN,
    MAX_COUNT,
    NEW_PASSWORD_REQUIRED,
    NO_ADDRESS_OR_USER,
    SENDER_DOMAIN_NOT_ALLOWED,
    USER_EXISTS,
    VERIFY_SENDER_NOT_SET,
    UserSettings,
    normalize_email,
)
from tempmail.api.examples import ADDRESS_ROW
from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.lax import LaxBool, OptionalLaxId
from tempmail.http.openapi import answers
from tempmail.http.paging import IdPath, PagingDep, page_json

router = APIRouter(prefix="/admin", tags=["admin users"], dependencies=[Depends(require_admin)])


class NewUserBody(BaseModel):
    email: str | None = None
    password: str | None = None


class PasswordBody(BaseModel):
    password: str | None = None


class UserRoleBody(BaseModel):
    # Any JSON: the service refuses what is not an id / a role with the reference's texts.
    user_id: Any = None
    role_text: Any = None


class RoleAddressConfigBody(BaseModel):
    # Any JSON: the service checks it as the reference does (`Invalid maxAddressCount`).
    configs: Any = None


class AdminBindBody(BaseModel):
    user_id: OptionalLaxId = None
    user_email: str | None = None
    address_id: OptionalLaxId = None
    address: str | None = None


class UserSettingsBody(UserSettings):
    """The registration rules. The switches also take 0/1 and yes/no words; a maxAddressCount
    that is not a count >= 0 is stored as the default."""

    enable: LaxBool = False
    enableMailVerify: LaxBool = False
    enableMailAllowList: LaxBool = False
    enableEmailCheckRegex: LaxBool = False
    maxAddressCount: Annotated[int, WithJsonSchema({"examples": [DEFAULT_MAX_ADDRESS_COUNT]})] = (
        DEFAULT_MAX_ADDRESS_COUNT
    )


USER_ROW = {
    "id": 1,
    "user_email": "someone@example.com",
    "created_at": "2026-01-01 00:00:00",
    "updated_at": "2026-01-01 00:00:00",
    "address_count": 1,
    "role_text": None,
}
SUCCESS = {"success": True}


@router.get("/user_settings", responses=answers(ok=UserSettings().model_dump()))
async def user_settings(services: ServicesDep) -> dict[str, Any]:
    return (await services.users.rules()).model_dump()


@router.post(
    "/user_settings",
    responses=answers(
        {400: [VERIFY_SENDER_NOT_SET, SENDER_DOMAIN_NOT_ALLOWED, "Invalid input: emailCheckRegex: {error}"]},
        ok=SUCCESS,
    ),
)
async def save_user_settings(body: UserSettingsBody, services: ServicesDep) -> dict[str, Any]:
    await services.users.save_rules(body)
    return {"success": True}


@router.get("/users", responses=answers(ok={"results": [USER_ROW], "count": 1}))
async def list_users(
    paging: PagingDep,
    services: ServicesDep,
    query: Annotated[str, Query(description="Only e-mails containing this (case-folded).")] = "",
) -> dict[str, Any]:
    return page_json(await services.users.page(paging.limit, paging.offset, query))


@router.post("/users", responses=answers({400: [LOGIN_REQUIRED, INVALID_LOGIN, USER_EXISTS]}, ok=SUCCESS))
async def create_user(body: NewUserBody, services: ServicesDep) -> dict[str, Any]:
    if not body.email or not body.password:
        raise ApiError(400, LOGIN_REQUIRED)
    await services.users.create(normalize_email(body.email), body.password)
    return {"success": True}


@router.delete("/users/{user_id}", responses=answers(ok=SUCCESS))
async def delete_user(user_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.users.delete(user_id)}


@router.post(
    "/users/{user_id}/reset_password",
    responses=answers({400: [NEW_PASSWORD_REQUIRED, USER_NOT_FOUND]}, ok=SUCCESS),
)
async def reset_password(user_id: IdPath, body: PasswordBody, services: ServicesDep) -> dict[str, Any]:
    await services.users.reset_password(user_id, body.password)
    return {"success": True}


@router.get(
    "/user_roles",
    responses=answers(ok=[{"role": "vip", "domains": ["example.com"], "prefix": "vip"}]),
)
async def user_roles(services: ServicesDep) -> list[dict[str, Any]]:
    return [role.model_dump(exclude_none=True) for role in services.settings.USER_ROLES]


@router.post(
    "/user_roles",
    responses=answers({400: [INVALID_USER_ID, INVALID_ROLE, USER_NOT_FOUND]}, ok=SUCCESS),
)
async def set_user_role(body: UserRoleBody, services: ServicesDep) -> dict[str, Any]:
    await services.roles.assign(body.user_id, body.role_text)
    return {"success": True}


@router.get("/role_address_config", responses=answers(ok={"configs": {"vip": {"maxAddressCount": 10}}}))
async def role_address_config(services: ServicesDep) -> dict[str, Any]:
    return {"configs": await services.roles.address_limits()}


@router.post("/role_address_config", responses=answers({400: INVALID_MAX_COUNT}, ok=SUCCESS))
async def save_role_address_config(body: RoleAddressConfigBody, services: ServicesDep) -> dict[str, Any]:
    await services.roles.save_address_limits(body.configs)
    return {"success": True}


@router.get("/users/bind_address/{user_id}", responses=answers(ok={"results": [ADDRESS_ROW]}))
async def user_addresses(user_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    rows = await services.users.bound_all(user_id)
    return {"results": [dict(row._mapping) for row in rows]}


@router.post(
    "/users/bind_address",
    responses=answers(
        {400: [NO_ADDRESS_OR_USER, ADDRESS_NOT_FOUND, USER_NOT_FOUND, MAX_COUNT, ALREADY_BOUND]},
        ok=SUCCESS,
    ),
)
async def bind_user_address(body: AdminBindBody, services: ServicesDep) -> dict[str, Any]:
    await services.users.bind_by_admin(body.user_id, body.user_email, body.address_id, body.address)
    return {"success": True}
