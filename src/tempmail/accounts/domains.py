"""Which domains mail is accepted for (the creation rules of new addresses are in
`tempmail.accounts.addresses`)."""

from __future__ import annotations

from tempmail.config import Settings


def _matches(domain: str, base: str, subdomains: bool) -> bool:
    return domain == base or (subdomains and domain.endswith("." + base))


def receives_mail_for(settings: Settings, domain: str, subdomain_match: bool) -> bool:
    """Whether inbound SMTP accepts this recipient domain (never relay for anything else).

    Subdomains are ours when addresses may be created on them: subdomain matching is in effect
    (`AccountSettingsService.subdomain_match`: the environment, or the admin's override), or
    the base is one of RANDOM_SUBDOMAIN_DOMAINS.
    """
    domain = domain.lower().rstrip(".")
    if any(_matches(domain, base, subdomain_match) for base in settings.DOMAINS):
        return True
    return any(_matches(domain, base, True) for base in settings.RANDOM_SUBDOMAIN_DOMAINS)
