"""The JSON API (API.md §4–§8): one module per route group; handlers parse, call a service and
shape the reply."""

from collections.abc import Mapping

from fastapi import APIRouter

from tempmail.api import (
    address,
    address_extras,
    admin,
    admin_ai_extract,
    admin_cleanup,
    admin_config,
    admin_database,
    admin_deliveries,
    admin_ip,
    admin_send,
    admin_users,
    admin_webhooks,
    attachments,
    events,
    inbox,
    oauth2,
    open,
    passkey,
    send,
    telegram,
    test_mode,
    user,
)
from tempmail.http.fast_lane import Answer

ROUTERS: tuple[APIRouter, ...] = (
    open.router,
    address.router,
    address_extras.router,
    inbox.router,
    attachments.router,
    send.router,
    user.router,
    passkey.router,
    oauth2.router,
    test_mode.router,
    admin.router,
    admin_users.router,
    admin_webhooks.router,
    admin_ai_extract.router,
    admin_send.router,
    admin_cleanup.router,
    admin_config.router,
    admin_database.router,
    admin_deliveries.router,
    admin_ip.router,
    telegram.router,
    telegram.admin_router,
    events.address_router,
    events.user_router,
    events.admin_router,
)

# GET paths answered ahead of the routing by `tempmail.http.fast_lane`, each by its own route.
FAST_ANSWERS: Mapping[str, Answer] = {
    open.HEALTH_PATH: open.health_answer,
    address.MAILS_PATH: address.mails_answer,
    user.MAILS_PATH: user.mails_answer,
    admin.MAILS_PATH: admin.mails_answer,
    events.ADDRESS_PATH: events.address_answer,
    events.USER_PATH: events.user_answer,
    events.ADMIN_PATH: events.admin_answer,
}
