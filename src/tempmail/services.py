"""The composition root: one `Services` per process, built once at start-up.

It opens the database, applies migrations, settles the secrets (a JWT secret and, when no
ADMIN_PASSWORDS are configured, an admin password, both generated once and kept in the
database so every node and every restart agrees), builds the stores and hands them to the
domain services, and subscribes what follows a stored mail to the pipeline's "mail stored"
event. Routes see only the services: every store stays behind them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import httpx

from tempmail.accounts.addresses import AddressService
from tempmail.accounts.oauth2 import OAuth2Service
from tempmail.accounts.passkeys import PasskeyService
from tempmail.accounts.roles import Roles
from tempmail.accounts.settings import AccountSettingsService
from tempmail.accounts.users import UserService
from tempmail.config import Settings
from tempmail.db.addresses import AddressStore
from tempmail.db.auto_reply import AutoReplyStore
from tempmail.db.cleanup import CleanupStore
from tempmail.db.counters import CounterStore
from tempmail.db.engine import Database
from tempmail.db.kv import SettingsStore
from tempmail.db.mails import MailStore
from tempmail.db.sendbox import SendboxStore
from tempmail.db.senders import SenderStore
from tempmail.db.users import UserStore
from tempmail.events.extraction import ExtractionService
from tempmail.events.webhooks import WebhookService
from tempmail.inbound.ingest_meter import IngestMeter
from tempmail.inbound.mail_stored import MailStored
from tempmail.inbound.mailbox import Mailbox
from tempmail.inbound.pipeline import Pipeline
from tempmail.maintenance.admin_config import AdminConfigService
from tempmail.maintenance.cleanup import CleanupService
from tempmail.maintenance.database import DatabaseService
from tempmail.maintenance.ip_settings import IpAccessService
from tempmail.outbound.auto_reply import AutoReplyService
from tempmail.outbound.forwarding import Forwarder
from tempmail.outbound.relays import Sender
from tempmail.outbound.send_quota import SendQuota
from tempmail.outbound.sending import SendService
from tempmail.security.tokens import Tokens

JWT_SECRET_KEY = "jwt_secret"
GENERATED_ADMIN_PASSWORD_KEY = "generated_admin_password"


@dataclass(slots=True)
class Services:
    settings: Settings
    tokens: Tokens
    account_settings: AccountSettingsService
    addresses: AddressService
    roles: Roles
    users: UserService
    passkeys: PasskeyService
    oauth2: OAuth2Service
    mailbox: Mailbox
    pipeline: Pipeline
    mail_stored: MailStored
    sending: SendService
    auto_reply: AutoReplyService
    webhooks: WebhookService
    extraction: ExtractionService
    cleanup: CleanupService
    database: DatabaseService
    admin_config: AdminConfigService
    ip_access: IpAccessService
    admin_passwords: list[str]
    generated_admin_password: str | None
    # What `close` releases; no route reaches them.
    _db: Database = field(repr=False)
    _http: httpx.AsyncClient = field(repr=False)

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        db = Database(settings.DATABASE_URL, settings.DATABASE_POOL_SIZE)
        try:
            await db.upgrade()
            reads = await db.open_reads()
            kv = SettingsStore(db.engine)
            secret = settings.JWT_SECRET or await kv.setdefault(JWT_SECRET_KEY, secrets.token_urlsafe(48))
            generated = None
            admin_passwords = list(settings.ADMIN_PASSWORDS)
            if not admin_passwords and not settings.DISABLE_ADMIN_PASSWORD_CHECK:
                generated = await kv.setdefault(GENERATED_ADMIN_PASSWORD_KEY, secrets.token_urlsafe(18))
                admin_passwords = [generated]
        except BaseException:
            await db.close()
            raise
        tokens = Tokens(secret)
        mails = MailStore(db.engine, db.ingest_engine, reads, settings.ENABLE_MAIL_GZIP)
        addresses = AddressStore(db.engine, reads)
        user_store = UserStore(db.engine)
        # One HTTP client for every outbound call (webhooks, Resend): building one costs an SSL
        # context, far more than the request itself.
        http = httpx.AsyncClient(follow_redirects=False)
        sender = Sender(settings, http)
        account_settings = AccountSettingsService(settings, kv)
        auto_reply = AutoReplyService(
            settings.ENABLE_AUTO_REPLY, AutoReplyStore(db.engine), sender, settings.AUTO_REPLY_SKIP_AUTOMATED
        )
        webhooks = WebhookService(settings, kv, http)
        extraction = ExtractionService(kv, mails)
        meter = IngestMeter()
        mail_stored = MailStored(meter)
        # In this order: forward, extraction (before the webhooks, which send what it found),
        # webhooks (retrying in tasks of their own), auto-reply.
        mail_stored.subscribe("forwarding", Forwarder(settings, sender, account_settings).on_mail_stored)
        mail_stored.subscribe_group("extraction", extraction.on_mails_stored)
        mail_stored.subscribe("webhooks", webhooks.on_mail_stored, detached=True)
        mail_stored.subscribe("auto-reply", auto_reply.on_mail_stored)
        pipeline = Pipeline(settings, mails, addresses, account_settings, mail_stored, meter)
        if settings.ENABLE_CHECK_JUNK_MAIL:
            await pipeline.auth.warm_up()
        roles = Roles(settings, user_store, kv)
        users = UserService(settings, user_store, addresses, mails, kv, tokens, sender, roles)
        return cls(
            settings=settings,
            tokens=tokens,
            account_settings=account_settings,
            addresses=AddressService(settings, addresses, account_settings, tokens),
            roles=roles,
            users=users,
            passkeys=PasskeyService(user_store, kv, users, rp_name=settings.TITLE or "tempmail"),
            oauth2=OAuth2Service(kv, users),
            mailbox=Mailbox(settings, mails, addresses),
            pipeline=pipeline,
            mail_stored=mail_stored,
            sending=SendService(
                settings,
                sender,
                SenderStore(db.engine),
                SendboxStore(db.engine),
                addresses,
                mails,
                account_settings,
                SendQuota(kv, CounterStore(db.engine)),
            ),
            auto_reply=auto_reply,
            webhooks=webhooks,
            extraction=extraction,
            cleanup=CleanupService(CleanupStore(db.engine, settings.CLEANUP_BATCH_SIZE), kv),
            database=DatabaseService(settings, db),
            admin_config=AdminConfigService(kv),
            ip_access=IpAccessService(kv, CounterStore(db.engine)),
            admin_passwords=admin_passwords,
            generated_admin_password=generated,
            _db=db,
            _http=http,
        )

    async def close(self) -> None:
        await self.pipeline.auth.close()
        await self._http.aclose()
        await self._db.close()
