"""`/admin` routes for accounts: registration rules, users, roles and their bindings (API.md §6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tempmail.accounts.users import UserSettings, normalize_email
from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.http.paging import MAX_ID, IdPath, PagingDep, page_json

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
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    user_email: str | None = None
    address_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    address: str | None = None


@router.get("/user_settings")
async def user_settings(services: ServicesDep) -> dict[str, Any]:
    return (await services.users.rules()).model_dump()


@router.post("/user_settings")
async def save_user_settings(body: UserSettings, services: ServicesDep) -> dict[str, Any]:
    await services.users.save_rules(body)
    return {"success": True}


@router.get("/users")
async def list_users(request: Request, paging: PagingDep, services: ServicesDep) -> dict[str, Any]:
    query = request.query_params.get("query") or ""
    return page_json(await services.users.page(paging.limit, paging.offset, query))


@router.post("/users")
async def create_user(body: NewUserBody, services: ServicesDep) -> dict[str, Any]:
    if not body.email or not body.password:
        raise ApiError(400, "Email and password are required")
    await services.users.create(normalize_email(body.email), body.password)
    return {"success": True}


@router.delete("/users/{user_id}")
async def delete_user(user_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.users.delete(user_id)}


@router.post("/users/{user_id}/reset_password")
async def reset_password(user_id: IdPath, body: PasswordBody, services: ServicesDep) -> dict[str, Any]:
    await services.users.reset_password(user_id, body.password)
    return {"success": True}


@router.get("/user_roles")
async def user_roles(services: ServicesDep) -> list[dict[str, Any]]:
    return [role.model_dump(exclude_none=True) for role in services.settings.USER_ROLES]


@router.post("/user_roles")
async def set_user_role(body: UserRoleBody, services: ServicesDep) -> dict[str, Any]:
    await services.roles.assign(body.user_id, body.role_text)
    return {"success": True}


@router.get("/role_address_config")
async def role_address_config(services: ServicesDep) -> dict[str, Any]:
    return {"configs": await services.roles.address_limits()}


@router.post("/role_address_config")
async def save_role_address_config(body: RoleAddressConfigBody, services: ServicesDep) -> dict[str, Any]:
    await services.roles.save_address_limits(body.configs)
    return {"success": True}


@router.get("/users/bind_address/{user_id}")
async def user_addresses(user_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    rows = await services.users.bound_all(user_id)
    return {"results": [dict(row._mapping) for row in rows]}


@router.post("/users/bind_address")
async def bind_user_address(body: AdminBindBody, services: ServicesDep) -> dict[str, Any]:
    await services.users.bind_by_admin(body.user_id, body.user_email, body.address_id, body.address)
    return {"success": True}
