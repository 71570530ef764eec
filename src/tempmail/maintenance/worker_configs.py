"""The effective configuration as the reference's admin page lists it (`/admin/worker/configs`,
COMPAT §5, and the console's Configuration screen): counts, never secrets."""

from __future__ import annotations

from typing import Any

from tempmail.config import REFERENCE_VERSION, Settings


def worker_configs(cfg: Settings, admin_password_count: int) -> dict[str, Any]:
    """The reference's key list, in its order, with the values as tempmail reads them."""
    return {
        "DEFAULT_LANG": cfg.DEFAULT_LANG,
        "TITLE": cfg.TITLE,
        "HAS_PASSWORD": len(cfg.PASSWORDS),
        "HAS_ADMIN_PASSWORDS": admin_password_count,
        "ANNOUNCEMENT": cfg.ANNOUNCEMENT,
        "ALWAYS_SHOW_ANNOUNCEMENT": cfg.ALWAYS_SHOW_ANNOUNCEMENT,
        "PREFIX": cfg.PREFIX,
        "ADDRESS_CHECK_REGEX": cfg.ADDRESS_CHECK_REGEX,
        "ADDRESS_REGEX": cfg.configured_address_regex,
        "MIN_ADDRESS_LEN": cfg.MIN_ADDRESS_LEN,
        "MAX_ADDRESS_LEN": cfg.MAX_ADDRESS_LEN,
        "FORWARD_ADDRESS_LIST": cfg.FORWARD_ADDRESS_LIST,
        "SUBDOMAIN_FORWARD_ADDRESS_LIST": [
            entry.model_dump() for entry in cfg.SUBDOMAIN_FORWARD_ADDRESS_LIST
        ],
        "DEFAULT_DOMAINS": cfg.default_domains,
        "DOMAINS": cfg.DOMAINS,
        "ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH": cfg.subdomain_match_env,
        "RANDOM_SUBDOMAIN_DOMAINS": cfg.RANDOM_SUBDOMAIN_DOMAINS,
        "RANDOM_SUBDOMAIN_LENGTH": cfg.RANDOM_SUBDOMAIN_LENGTH,
        "DOMAIN_LABELS": cfg.DOMAIN_LABELS,
        # A secret always exists: configured, or generated once and kept in the database.
        "HAS_JWT_SECRET": True,
        "ADMIN_USER_ROLE": cfg.ADMIN_USER_ROLE,
        "USER_DEFAULT_ROLE": cfg.USER_DEFAULT_ROLE,
        "USER_ROLES": [role.model_dump(exclude_none=True) for role in cfg.USER_ROLES],
        "NO_LIMIT_SEND_ROLE": cfg.NO_LIMIT_SEND_ROLE,
        "ADMIN_CONTACT": cfg.ADMIN_CONTACT,
        "ENABLE_USER_CREATE_EMAIL": cfg.ENABLE_USER_CREATE_EMAIL,
        "DISABLE_ANONYMOUS_USER_CREATE_EMAIL": cfg.DISABLE_ANONYMOUS_USER_CREATE_EMAIL,
        "ENABLE_USER_DELETE_EMAIL": cfg.ENABLE_USER_DELETE_EMAIL,
        "ENABLE_AUTO_REPLY": cfg.ENABLE_AUTO_REPLY,
        "COPYRIGHT": cfg.COPYRIGHT,
        "ENABLE_WEBHOOK": cfg.ENABLE_WEBHOOK,
        "S3_ENABLED": False,
        "VERSION": REFERENCE_VERSION,
        "DISABLE_SHOW_GITHUB": cfg.DISABLE_SHOW_GITHUB,
        "DISABLE_SHOW_GITHUB_FOR_USER": cfg.DISABLE_SHOW_GITHUB_FOR_USER,
        "DISABLE_ADMIN_PASSWORD_CHECK": cfg.DISABLE_ADMIN_PASSWORD_CHECK,
        "ENABLE_CHECK_JUNK_MAIL": cfg.ENABLE_CHECK_JUNK_MAIL,
        "JUNK_MAIL_CHECK_LIST": cfg.JUNK_MAIL_CHECK_LIST,
        "JUNK_MAIL_FORCE_PASS_LIST": cfg.JUNK_MAIL_FORCE_PASS_LIST,
        "REMOVE_EXCEED_SIZE_ATTACHMENT": cfg.REMOVE_EXCEED_SIZE_ATTACHMENT,
        "REMOVE_ALL_ATTACHMENT": cfg.REMOVE_ALL_ATTACHMENT,
        "ENABLE_ANOTHER_WORKER": cfg.ENABLE_ANOTHER_WORKER,
        "ANOTHER_WORKER_LIST": cfg.ANOTHER_WORKER_LIST,
    }
