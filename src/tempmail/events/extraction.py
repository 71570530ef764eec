"""What a received mail asks for (a code, a link), kept in `raw_mails.metadata` (COMPAT §12).

The reference asks a Workers AI model when ENABLE_AI_EMAIL_EXTRACT is on, and stores nothing
otherwise. We have no cloud model and need none: the local extractor (`tempmail.inbound.codes`)
costs a fraction of a millisecond, so it runs for every received mail whatever
ENABLE_AI_EMAIL_EXTRACT says (the issue asks for the result "for every received mail, without
any cloud model"); the admin's allow list (`/admin/ai_extract/settings`) still limits it to the
addresses it names. The metadata text is the reference's:
`{"ai_extract": {"type", "result", "result_text"}, "extracted_at": "<ISO-8601 UTC>"}`, written
only when something was found, and the same result goes to the webhooks that follow.

It runs after SMTP has answered, as a "mail stored" subscriber over a whole group of mails, so a
burst costs one UPDATE transaction per group, not one per mail.
"""

from __future__ import annotations

import asyncio
import re

from pydantic import BaseModel, Field

from tempmail.db.kv import SettingsStore
from tempmail.db.mails import MailStore
from tempmail.inbound.codes import extract_from
from tempmail.inbound.mail_stored import MailStoredReport, StoredMail
from tempmail.inbound.metadata import Result, as_result, metadata_text

SETTINGS_KEY = "ai_extract_settings"


class AiExtractSettings(BaseModel):
    """`GET/POST /admin/ai_extract/settings`: which recipients the extraction runs for."""

    enableAllowList: bool = False
    allowList: list[str] = Field(default_factory=list)


def allowed(settings: AiExtractSettings, address: str) -> bool:
    """No list (or the list off): everyone. Else an entry equal to the address, or one with `*`
    wildcards matching the whole address."""
    if not settings.enableAllowList or not settings.allowList:
        return True
    for entry in settings.allowList:
        if "*" in entry:
            pattern = ".*".join(re.escape(part) for part in entry.split("*"))
            if re.fullmatch(pattern, address):
                return True
        elif entry == address:
            return True
    return False


class ExtractionService:
    def __init__(self, kv: SettingsStore, mails: MailStore) -> None:
        self.kv = kv
        self.mails = mails

    async def settings(self) -> AiExtractSettings:
        return AiExtractSettings.model_validate(await self.kv.get_cached(SETTINGS_KEY, {}) or {})

    async def save_settings(self, settings: AiExtractSettings) -> None:
        await self.kv.set(SETTINGS_KEY, settings.model_dump())

    async def _extract(self, mail: StoredMail) -> Result | None:
        if mail.ai_answer is not None:
            return as_result(mail.ai_answer)
        found = await asyncio.to_thread(extract_from, await mail.parsed())
        if found.type == "none" or not found.result:
            return None
        return {"type": found.type, "result": found.result, "result_text": found.result_text}

    async def found_in(self, address: str, raw: bytes) -> Result | None:
        """What the extraction finds in a mail read back from the database (the push API's
        event, sent before the subscriber below has written it), under the same allow list."""
        if not allowed(await self.settings(), address):
            return None
        return await self._extract(StoredMail(0, address, "", raw))

    async def on_mails_stored(self, mails: list[StoredMail], report: MailStoredReport) -> None:
        """Extract from every mail the allow list lets through; one write for the group."""
        settings = await self.settings()
        written: list[tuple[int, str]] = []
        for mail in mails:
            if not allowed(settings, mail.address):
                continue
            mail.extracted = await self._extract(mail)
            if mail.extracted is not None:
                written.append((mail.id, metadata_text(mail.extracted)))
        await self.mails.set_metadata(written)
