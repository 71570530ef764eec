"""What a request handler reaches: the process's `Services`, put on the app at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from tempmail.services import Services


def services_of(request: HTTPConnection) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: HTTPConnection) -> Services:
    """The dependency; `async` because FastAPI runs a plain function in a worker thread, a hop
    that cost more than the request's own work."""
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]
