"""`/admin` routes for accounts: registration rules, users, roles and their bindings (API.md §6)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from tempmail.accounts.users import USER_NOT_FOUND, UserSettings, normalize_email
from tempmail.errors import ApiError
from tempmail.http.auth import require_admin
from tempmail.http.common import MAX_ID, IdPath, PagingDep, ServicesDep, page_json
from tempmail.services import Services

router = APIRouter(prefix="/admin", tags=["admin users"], dependencies=[Depends(require_admin)])


class NewUserBody(BaseModel):
    email: str | None = None
    password: str | None = None


class PasswordBody(BaseModel):
    password: str | None = None


class UserRoleBody(BaseModel):
    user_id: int = Field(ge=1, le=MAX_ID)
    role_text: str = ""


class RoleLimit(BaseModel):
    maxAddressCount: int = Field(ge=0, le=100_000)


class RoleAddressConfigBody(BaseModel):
    configs: dict[str, RoleLimit] = Field(default_factory=dict)


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
    query = (request.query_params.get("query") or "").strip().lower()
    return page_json(await services.user_store.page(paging.limit, paging.offset, query))


@router.post("/users")
async def create_user(body: NewUserBody, services: ServicesDep) -> dict[str, Any]:
    if not body.email or not body.password:
        raise ApiError(400, "Email and password are required")
    await services.users.create(normalize_email(body.email), body.password)
    return {"success": True}


@router.delete("/users/{user_id}")
async def delete_user(user_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    return {"success": await services.user_store.delete(user_id)}


@router.post("/users/{user_id}/reset_password")
async def reset_password(user_id: IdPath, body: PasswordBody, services: ServicesDep) -> dict[str, Any]:
    await services.users.reset_password(user_id, body.password)
    return {"success": True}


@router.get("/user_roles")
async def user_roles(services: ServicesDep) -> list[dict[str, Any]]:
    return [role.model_dump() for role in services.settings.USER_ROLES]


def _known_roles(services: Services) -> set[str]:
    cfg = services.settings
    return {role.role for role in cfg.USER_ROLES} | {
        role for role in (cfg.USER_DEFAULT_ROLE, cfg.ADMIN_USER_ROLE, *cfg.NO_LIMIT_SEND_ROLE) if role
    }


@router.post("/user_roles")
async def set_user_role(body: UserRoleBody, services: ServicesDep) -> dict[str, Any]:
    """A role not configured anywhere would silently grant nothing, so it is refused."""
    role = body.role_text.strip()
    if role and role not in _known_roles(services):
        raise ApiError(400, "Invalid role: {role}", role=role)
    if await services.user_store.get(body.user_id) is None:
        raise ApiError(400, USER_NOT_FOUND)
    await services.user_store.set_role(body.user_id, role)
    return {"success": True}


@router.get("/role_address_config")
async def role_address_config(services: ServicesDep) -> dict[str, Any]:
    return {"configs": await services.users.role_address_config()}


@router.post("/role_address_config")
async def save_role_address_config(body: RoleAddressConfigBody, services: ServicesDep) -> dict[str, Any]:
    configs = {role: limit.model_dump() for role, limit in body.configs.items()}
    await services.users.save_role_address_config(configs)
    return {"success": True}


@router.get("/users/bind_address/{user_id}")
async def user_addresses(user_id: IdPath, services: ServicesDep) -> dict[str, Any]:
    rows = await services.user_store.bound_all(user_id)
    return {"results": [dict(row._mapping) for row in rows]}


@router.post("/users/bind_address")
async def bind_user_address(body: AdminBindBody, services: ServicesDep) -> dict[str, Any]:
    """Bind by id or by name on either side; the admin is not held to the user's address limit."""
    user = (
        await services.user_store.get(body.user_id)
        if body.user_id
        else await services.user_store.get_by_email((body.user_email or "").strip().lower())
    )
    if user is None:
        raise ApiError(400, USER_NOT_FOUND)
    row = (
        await services.addresses.get(body.address_id)
        if body.address_id
        else await services.addresses.get_by_name((body.address or "").strip().lower())
    )
    if row is None:
        raise ApiError(400, "Address not found")
    await services.users.bind(user.id, row.id, limited=False)
    return {"success": True}
