"""What the bot says, in English and Chinese (chosen by the Telegram user's `language_code`).

The English text is the key, as in `tempmail.errors` and the web UI's `t()`; refusals that come
from the services (a name refused, say) are their ApiError texts, translated by `tempmail.errors`.
"""

from __future__ import annotations

from typing import Any

from tempmail.errors import CHINESE

# (command, English description); the Chinese descriptions are in ZH.
COMMANDS = (
    ("start", "Welcome and help"),
    ("new", "Create an address: /new [name@domain]"),
    ("address", "List your addresses"),
    ("bind", "Bind an address by its credential: /bind <credential>"),
    ("unbind", "Unbind an address: /unbind <address>"),
    ("delete", "Delete an address and its mail: /delete <address>"),
    ("mails", "Read the newest mail: /mails [address]"),
    ("cleaninvalidaddress", "Forget addresses that no longer exist"),
)

ZH: dict[str, str] = {
    "Welcome and help": "开始使用与帮助",
    "Create an address: /new [name@domain]": "新建邮箱地址: /new [名称@域名]",
    "List your addresses": "查看你的地址",
    "Bind an address by its credential: /bind <credential>": "用凭证绑定地址: /bind <凭证>",
    "Unbind an address: /unbind <address>": "解绑地址: /unbind <地址>",
    "Delete an address and its mail: /delete <address>": "删除地址及其邮件: /delete <地址>",
    "Read the newest mail: /mails [address]": "查看最新邮件: /mails [地址]",
    "Forget addresses that no longer exist": "清理已不存在的地址",
    "Welcome to the temporary mail bot. Commands:": "欢迎使用临时邮箱机器人。命令:",
    "Unknown command. Send /start for help.": "未知命令。发送 /start 查看帮助。",
    "Address created: {address}\nCredential (keep it to log in on the web): {jwt}": (
        "地址已创建: {address}\n凭证 (可用于网页登录, 请妥善保管): {jwt}"
    ),
    "You hold no address yet. Create one with /new or bind one with /bind.": (
        "你还没有地址。用 /new 新建或用 /bind 绑定。"
    ),
    "Your addresses:": "你的地址:",
    "Usage: /bind <credential>": "用法: /bind <凭证>",
    "Bound: {address}": "已绑定: {address}",
    "Usage: /unbind <address>": "用法: /unbind <地址>",
    "Usage: /delete <address>": "用法: /delete <地址>",
    "Unbound: {address}": "已解绑: {address}",
    "Deleted: {address}": "已删除: {address}",
    "No mail in {address}.": "{address} 没有邮件。",
    "Forgot {count} address(es) that no longer exist.": "已清理 {count} 个不存在的地址。",
    "New mail to {address}": "{address} 收到新邮件",
    "From: {sender}": "发件人: {sender}",
    "Subject: {subject}": "主题: {subject}",
    "Code: {code}": "验证码: {code}",
    "Link: {link}": "链接: {link}",
    "Mail {position} of {count} in {address}": "{address} 的第 {position} 封邮件 (共 {count} 封)",
    "Older": "更早",
    "Newer": "更新",
    "Open": "打开",
    "That mail list is gone; send /mails again.": "该邮件列表已失效, 请重新发送 /mails。",
}


def language_of(language_code: str | None) -> str:
    """Chinese for every `zh*` Telegram language, English otherwise."""
    return CHINESE if (language_code or "").lower().startswith("zh") else "en"


def say(lang: str, text: str, **params: Any) -> str:
    translated = ZH.get(text, text) if lang == CHINESE else text
    return translated.format(**params) if params else translated
