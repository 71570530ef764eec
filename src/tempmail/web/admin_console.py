"""The admin console's fragments for the screens beyond the everyday ones (`/ui/admin/...`):
role address limits, OAuth2 login providers, IP access, code extraction, the database and the
effective configuration.

Like `tempmail.web.admin`, they only read (filled-in forms and tables); the forms post to the
JSON `/admin` routes of the same subject, guarded by the same admin dependency.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from tempmail.accounts.oauth2 import OAuth2ProviderSettings
from tempmail.http.auth import require_admin
from tempmail.http.context import ServicesDep
from tempmail.maintenance.worker_configs import worker_configs
from tempmail.web.render import render

router = APIRouter(prefix="/ui/admin", include_in_schema=False, dependencies=[Depends(require_admin)])

# The text fields of a provider form, in the order of the reference's admin page; the booleans
# and the allow-list have inputs of their own.
PROVIDER_TEXT_FIELDS = (
    "name",
    "clientID",
    "clientSecret",
    "authorizationURL",
    "accessTokenURL",
    "accessTokenFormat",
    "userInfoURL",
    "userEmailKey",
    "redirectURL",
    "logoutURL",
    "scope",
    "userEmailFormat",
    "userEmailReplace",
    "icon",
)
PROVIDER_REQUIRED = frozenset(
    ("name", "clientID", "authorizationURL", "accessTokenURL", "userInfoURL", "redirectURL")
)


@router.get("/role_limits")
async def role_limits(request: Request, services: ServicesDep) -> HTMLResponse:
    """Every configured role, and any role the stored limits name that USER_ROLES no longer has."""
    limits = await services.roles.address_limits()
    roles = [role.role for role in services.settings.USER_ROLES]
    roles += [name for name in limits if name not in roles]
    counts = {
        name: entry.get("maxAddressCount") if isinstance(entry, dict) else None
        for name, entry in limits.items()
    }
    return render(request, "admin/role_limits.html", roles=roles, counts=counts)


@router.get("/oauth2")
async def oauth2_providers(request: Request, services: ServicesDep) -> HTMLResponse:
    """One fieldset per provider, and a blank one (`template`) the page copies to add another."""
    required = dict.fromkeys(PROVIDER_REQUIRED, "")
    blank = OAuth2ProviderSettings(**required).model_dump()  # type: ignore[arg-type]
    return render(
        request,
        "admin/oauth2_providers.html",
        providers=[provider.model_dump() for provider in await services.oauth2.providers()],
        blank=blank,
        text_fields=PROVIDER_TEXT_FIELDS,
        required=PROVIDER_REQUIRED,
        callback_url=str(request.base_url).rstrip("/") + "/user/oauth2/callback",
    )


@router.get("/ip_access")
async def ip_access(request: Request, services: ServicesDep) -> HTMLResponse:
    return render(request, "admin/ip_access.html", ip=await services.ip_access.settings())


@router.get("/ai_extract")
async def ai_extract(request: Request, services: ServicesDep) -> HTMLResponse:
    return render(
        request, "admin/ai_extract.html", extract=(await services.extraction.settings()).model_dump()
    )


@router.get("/database")
async def database(request: Request, services: ServicesDep) -> HTMLResponse:
    return render(
        request,
        "admin/database.html",
        schema=await services.database.version(),
        usage=await services.database.usage(),
    )


@router.get("/worker")
async def worker(request: Request, services: ServicesDep) -> HTMLResponse:
    """Each value as the JSON route answers it (texts as they are)."""
    configs = worker_configs(services.settings, len(services.admin_passwords))
    shown = {
        key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for key, value in configs.items()
    }
    return render(request, "admin/worker_configs.html", configs=shown)
