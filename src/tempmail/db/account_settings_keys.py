"""The `settings` keys of the admin's account settings: the reference's own names (COMPAT §11.1),
so its custom cleanup SQL and database imports see the same rows. Fixed names, shared by the
service that reads them and the migration that moved tempmail's older document onto them."""

from __future__ import annotations

# Each list setting by its API name (`fromBlockList` is in the reference's KV, under this name).
LIST_KEYS = {
    "blockList": "address_block_list",
    "sendBlockList": "send_block_list",
    "verifiedAddressList": "verified_address_list",
    "fromBlockList": "temp-mail-email-black-list",
    "noLimitSendAddressList": "no_limit_send_address_list",
}
EMAIL_RULES_KEY = "email_rule_settings"
ADDRESS_CREATION_KEY = "address_creation_settings"
SEND_LIMIT_KEY = "send_mail_limit_config"
