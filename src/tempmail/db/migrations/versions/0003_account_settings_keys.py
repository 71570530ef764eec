"""Account settings: one `settings` row per item, under the reference's keys (COMPAT §11.1).

Until now they were one merged JSON document under `account_settings`. Each item moves to its own
row; the old send quota `{dailyLimit, monthlyLimit}` (0 = no limit) becomes
`{dailyEnabled, monthlyEnabled, dailyLimit, monthlyLimit}` (a disabled limit is null). The
downgrade merges the rows back.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from tempmail.db.account_settings_keys import ADDRESS_CREATION_KEY, EMAIL_RULES_KEY, LIST_KEYS, SEND_LIMIT_KEY

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEY = "account_settings"
OBJECT_KEYS = {
    "emailRuleSettings": EMAIL_RULES_KEY,
    "addressCreationSettings": ADDRESS_CREATION_KEY,
    "sendMailLimitConfig": SEND_LIMIT_KEY,
}

settings = sa.table(
    "settings", sa.column("key"), sa.column("value"), sa.column("created_at"), sa.column("updated_at")
)


def _new_limits(old: Any) -> dict[str, Any] | None:
    """The old quota (0 = none) in the new shape, or None when no limit was set."""
    if not isinstance(old, dict):
        return None
    daily, monthly = old.get("dailyLimit") or 0, old.get("monthlyLimit") or 0
    if not daily and not monthly:
        return None
    return {
        "dailyEnabled": bool(daily),
        "monthlyEnabled": bool(monthly),
        "dailyLimit": daily or None,
        "monthlyLimit": monthly or None,
    }


def _items(document: dict[str, Any]) -> dict[str, Any]:
    """The new rows of an old document; empty items are left out, as the service would."""
    items: dict[str, Any] = {}
    for name, key in LIST_KEYS.items():
        if document.get(name):
            items[key] = document[name]
    if document.get("emailRuleSettings"):
        items[OBJECT_KEYS["emailRuleSettings"]] = document["emailRuleSettings"]
    creation = document.get("addressCreationSettings")
    if isinstance(creation, dict) and isinstance(creation.get("enableSubdomainMatch"), bool):
        items[OBJECT_KEYS["addressCreationSettings"]] = {
            "enableSubdomainMatch": creation["enableSubdomainMatch"]
        }
    limits = _new_limits(document.get("sendMailLimitConfig"))
    if limits is not None:
        items[OBJECT_KEYS["sendMailLimitConfig"]] = limits
    return items


def upgrade() -> None:
    conn = op.get_bind()
    old = conn.execute(
        sa.select(settings.c.value, settings.c.created_at, settings.c.updated_at).where(
            settings.c.key == OLD_KEY
        )
    ).first()
    if old is None:
        return
    document = json.loads(old.value or "{}")
    for key, value in _items(document if isinstance(document, dict) else {}).items():
        conn.execute(sa.delete(settings).where(settings.c.key == key))
        conn.execute(
            sa.insert(settings).values(
                key=key,
                value=json.dumps(value, ensure_ascii=False),
                created_at=old.created_at,
                updated_at=old.updated_at,
            )
        )
    conn.execute(sa.delete(settings).where(settings.c.key == OLD_KEY))


def downgrade() -> None:
    conn = op.get_bind()
    keys = {**LIST_KEYS, **OBJECT_KEYS}
    rows = conn.execute(
        sa.select(settings.c.key, settings.c.value, settings.c.created_at, settings.c.updated_at).where(
            settings.c.key.in_(list(keys.values()))
        )
    ).all()
    if not rows:
        return
    stored = {row.key: json.loads(row.value or "null") for row in rows}
    document = {name: stored[key] for name, key in keys.items() if key in stored}
    limits = document.get("sendMailLimitConfig")
    if isinstance(limits, dict):
        document["sendMailLimitConfig"] = {
            "dailyLimit": max(limits.get("dailyLimit") or 0, 0) if limits.get("dailyEnabled") else 0,
            "monthlyLimit": max(limits.get("monthlyLimit") or 0, 0) if limits.get("monthlyEnabled") else 0,
        }
    conn.execute(
        sa.insert(settings).values(
            key=OLD_KEY,
            value=json.dumps(document, ensure_ascii=False),
            created_at=rows[0].created_at,
            updated_at=rows[0].updated_at,
        )
    )
    conn.execute(sa.delete(settings).where(settings.c.key.in_(list(keys.values()))))
