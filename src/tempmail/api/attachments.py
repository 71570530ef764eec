"""`/api/attachment/*`: the reference's attachments in S3-compatible object storage (COMPAT §17),
answered as far as tempmail goes.

They need an address credential like every `/api/*` route. The reference needs S3_ENDPOINT,
S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_BUCKET; without them it has no store to sign URLs
for, and we answer `400 S3 is not configured`. tempmail has no object-store client yet, so even
with them set the routes say so (501) and `/open_api/settings` keeps `isS3Enabled: false`, which
tells clients not to offer attachments at all.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tempmail.errors import ApiError
from tempmail.http.auth import require_address
from tempmail.http.context import ServicesDep
from tempmail.http.openapi import answers

NOT_CONFIGURED = "S3 is not configured"
NOT_BUILT = "S3 attachments are not implemented in this tempmail version"
ROUTES = (("GET", "list"), ("POST", "delete"), ("POST", "put_url"), ("POST", "get_url"))
UNAVAILABLE = answers({400: NOT_CONFIGURED, 501: NOT_BUILT})

router = APIRouter(prefix="/api/attachment", tags=["address"], dependencies=[Depends(require_address)])


async def unavailable(services: ServicesDep) -> None:
    """Every attachment route: no object store to sign for."""
    settings = services.settings
    if not all(
        (settings.S3_ENDPOINT, settings.S3_ACCESS_KEY_ID, settings.S3_SECRET_ACCESS_KEY, settings.S3_BUCKET)
    ):
        raise ApiError(400, NOT_CONFIGURED)
    raise ApiError(501, NOT_BUILT)


for _method, _name in ROUTES:
    router.add_api_route(
        f"/{_name}",
        unavailable,
        methods=[_method],
        name=f"attachment_{_name}",
        responses=UNAVAILABLE,
        response_model=None,
    )
