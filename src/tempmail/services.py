"""The composition root: one `Services` per process, built once at start-up.

It opens the database, applies migrations, settles the secrets (a JWT secret and, when no
ADMIN_PASSWORDS are configured, an admin password, both generated once and kept in the
database so every node and every restart agrees), and wires the stores to the domain code.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

from tempmail.accounts.addresses import AddressService
from tempmail.accounts.oauth2 import OAuth2Service
from tempmail.accounts.passkeys import PASSKEY_CHALLENGE_PREFIX, PasskeyService
from tempmail.accounts.settings import AccountSettingsService
from tempmail.accounts.users import VERIFY_CODE_PREFIX, UserService
from tempmail.config import Settings
from tempmail.db.addresses import AddressStore
from tempmail.db.auto_reply import AutoReplyStore
from tempmail.db.cleanup import CleanupStore
from tempmail.db.engine import Database
from tempmail.db.kv import SettingsStore
from tempmail.db.mails import MailStore, raw_bytes
from tempmail.db.sendbox import SendboxStore
from tempmail.db.senders import SenderStore
from tempmail.db.users import UserStore
from tempmail.events.webhooks import WebhookService
from tempmail.inbound.mail_stored import AfterStoreSteps, Forwarder
from tempmail.inbound.pipeline import Pipeline, StoredMail
from tempmail.maintenance.cleanup import CleanupService
from tempmail.outbound.auto_reply import AutoReplyService
from tempmail.outbound.relays import Sender
from tempmail.outbound.sending import SendService
from tempmail.security.tokens import Tokens

JWT_SECRET_KEY = "jwt_secret"
GENERATED_ADMIN_PASSWORD_KEY = "generated_admin_password"


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    kv: SettingsStore
    mails: MailStore
    addresses: AddressStore
    sendbox: SendboxStore
    senders: SenderStore
    user_store: UserStore
    sender: Sender
    accounts: AccountSettingsService
    sending: SendService
    tokens: Tokens
    address_service: AddressService
    users: UserService
    passkeys: PasskeyService
    oauth2: OAuth2Service
    pipeline: Pipeline
    after_store: AfterStoreSteps
    auto_reply: AutoReplyService
    webhooks: WebhookService
    cleanup: CleanupService
    admin_passwords: list[str]
    generated_admin_password: str | None

    @classmethod
    async def start(cls, settings: Settings) -> Services:
        db = Database(settings.DATABASE_URL)
        try:
            await db.upgrade()
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
        mails = MailStore(db.engine, db.ingest_engine, settings.ENABLE_MAIL_GZIP)
        addresses = AddressStore(db.engine)
        user_store = UserStore(db.engine)
        # One HTTP client for every outbound call (webhooks, Resend): building one costs an SSL
        # context, far more than the request itself.
        http = httpx.AsyncClient(follow_redirects=False)
        sender = Sender(settings, http)
        accounts = AccountSettingsService(kv)
        sendbox = SendboxStore(db.engine)
        senders = SenderStore(db.engine)
        auto_reply = AutoReplyService(settings.ENABLE_AUTO_REPLY, AutoReplyStore(db.engine), kv, sender)
        webhooks = WebhookService(settings, kv, http)
        pipeline = Pipeline(settings, mails, addresses, accounts)
        after_store = AfterStoreSteps(
            Forwarder(settings, sender, accounts), webhooks, auto_reply, pipeline.load
        )
        pipeline.after_store = after_store
        if settings.ENABLE_CHECK_JUNK_MAIL:
            await pipeline.auth.warm_up()
        users = UserService(settings, user_store, addresses, mails, kv, tokens, sender)
        return cls(
            settings=settings,
            db=db,
            kv=kv,
            mails=mails,
            addresses=addresses,
            sendbox=sendbox,
            senders=senders,
            accounts=accounts,
            sending=SendService(settings, sender, senders, sendbox, addresses, mails, accounts),
            user_store=user_store,
            sender=sender,
            tokens=tokens,
            address_service=AddressService(settings, addresses, accounts, tokens),
            users=users,
            passkeys=PasskeyService(user_store, kv, users, rp_name=settings.TITLE or "tempmail"),
            oauth2=OAuth2Service(kv, users),
            pipeline=pipeline,
            after_store=after_store,
            auto_reply=auto_reply,
            webhooks=webhooks,
            cleanup=CleanupService(CleanupStore(db.engine, settings.CLEANUP_BATCH_SIZE), kv),
            admin_passwords=admin_passwords,
            generated_admin_password=generated,
        )

    async def sample_mail(self, address: str | None) -> StoredMail:
        """The newest stored mail (of `address`), for webhook tests; a made-up one if none."""
        page = await self.mails.page(1, 0, owner=address)
        if page.results:
            row = page.results[0]
            return StoredMail(int(row.id), str(row.address), str(row.source or ""), raw_bytes(row))
        to = address or f"test@{self.settings.DOMAINS[0] if self.settings.DOMAINS else 'localhost'}"
        raw = f"From: sender@example.com\r\nTo: {to}\r\nSubject: Webhook test\r\n\r\nThis is a test mail.\r\n"
        return StoredMail(0, to, "sender@example.com", raw.encode())

    async def purge_expired(self) -> None:
        """Drop verification codes and passkey challenges nobody used before they expired."""
        for prefix in (VERIFY_CODE_PREFIX, PASSKEY_CHALLENGE_PREFIX):
            await self.kv.purge_expired(prefix)

    async def close(self) -> None:
        await self.pipeline.auth.close()
        await self.sender.http.aclose()
        await self.db.close()
