"""The UI's languages: English (the texts themselves) and Simplified Chinese.

Templates call `t("English text", name=value)`; the English text is the key, as in
`tempmail.errors`, so a text without a translation still reads correctly. The language comes
from the `lang` cookie the switch sets, else the browser's Accept-Language, else DEFAULT_LANG.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LANGUAGES = ("en", "zh")

Translate = Callable[..., str]


def weighted(header: str) -> list[tuple[str, float]]:
    """`a, b;q=0.5` -> [(a, 1.0), (b, 0.5)], lower-cased; unparsable weights count as 0."""
    found = []
    for item in header.split(","):
        value, *params = (part.strip() for part in item.split(";"))
        if not value:
            continue
        q = 1.0
        for param in params:
            key, _, number = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(number)
                except ValueError:
                    q = 0.0
        found.append((value.lower(), q))
    return found


def _supported(tag: str) -> str | None:
    base = tag.lower().split("-")[0]
    return base if base in LANGUAGES else None


def pick_lang(cookie: str | None, accept_language: str, default: str) -> str:
    if cookie in LANGUAGES:
        return cookie
    ranked = sorted(weighted(accept_language), key=lambda pair: -pair[1])
    for tag, q in ranked:
        lang = _supported(tag)
        if lang and q > 0:
            return lang
    return _supported(default) or "en"


def translator(lang: str) -> Translate:
    table = ZH if lang == "zh" else EN

    def t(text: str, **params: Any) -> str:
        translated = table.get(text) or EN.get(text, text)
        return translated.format(**params) if params else translated

    return t


# Texts whose key is not the English text itself: names made from identifiers of the API.
EN: dict[str, str] = {
    "admin:addresses": "Addresses",
    "admin:mails": "All mails",
    "admin:unknown": "Unknown addresses",
    "admin:users": "Users",
    "admin:senders": "Sender access",
    "admin:sendbox": "Sent box",
    "admin:statistics": "Statistics",
    "admin:settings": "Settings",
    "clean:mails": "Mails",
    "clean:mails_unknow": "Mails to unknown addresses",
    "clean:sendbox": "Sent mails",
    "clean:addressCreated": "Addresses (by creation date)",
    "clean:inactiveAddress": "Inactive addresses",
    "clean:unboundAddress": "Addresses not bound to a user",
    "clean:emptyAddress": "Addresses without mail",
}

ZH: dict[str, str] = {
    "admin:addresses": "地址",
    "admin:mails": "所有邮件",
    "admin:unknown": "未知地址",
    "admin:users": "用户",
    "admin:senders": "发件权限",
    "admin:sendbox": "发件箱",
    "admin:statistics": "统计",
    "admin:settings": "设置",
    "clean:mails": "邮件",
    "clean:mails_unknow": "发往未知地址的邮件",
    "clean:sendbox": "已发送邮件",
    "clean:addressCreated": "地址（按创建时间）",
    "clean:inactiveAddress": "不活跃的地址",
    "clean:unboundAddress": "未绑定用户的地址",
    "clean:emptyAddress": "没有邮件的地址",
    "(no name)": "（无文件名）",
    "(no subject)": "（无主题）",
    "A code was sent to this e-mail": "验证码已发送到该邮箱",
    "Account": "账户",
    "Actions": "操作",
    "Active in 30 days": "30 天内活跃",
    "Active in 7 days": "7 天内活跃",
    "Add": "添加",
    "Add address": "添加地址",
    "Add the inbox's current address to this account": "将收件箱当前地址绑定到此账户",
    "Address": "地址",
    "Address added: {address}": "已添加地址：{address}",
    "Address and password": "地址和密码",
    "Address password": "地址密码",
    "Address removed from this browser": "已从此浏览器移除该地址",
    "Addresses": "地址",
    "Addresses (one a line)": "地址（每行一个）",
    "Addresses per user": "每个用户的地址数",
    "Addresses that asked to send mail, and their balance. Approve one by enabling it with a balance.": (
        "申请发件的地址及其余额。启用并设置余额即为批准。"
    ),
    "Addresses that send without a balance": "不受余额限制的发件地址",
    "Admin": "管理",
    "Admin console": "管理控制台",
    "Admin password": "管理员密码",
    "Allowed (unless the environment sets false)": "允许（除非环境变量设为 false）",
    "Allowed domains (one a line)": "允许的域名（每行一个）",
    "Anyone may register": "允许任何人注册",
    "As ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH says": "按 ENABLE_CREATE_ADDRESS_SUBDOMAIN_MATCH 设置",
    "Ask to send mail": "申请发件权限",
    "Attachments": "附件",
    "Auto": "跟随系统",
    "Auto-reply": "自动回复",
    "Automatic cleanup": "自动清理",
    "Back to the list": "返回列表",
    "Balance": "余额",
    "Balance and access": "余额与权限",
    "Block lists and rules": "黑名单与规则",
    "Body template": "请求体模板",
    "Change password": "修改密码",
    "Clean now": "立即清理",
    "Cleanup": "清理",
    "Clear inbox": "清空收件箱",
    "Clear sent": "清空已发送",
    "Clear sent mail": "清空已发送邮件",
    "Close": "关闭",
    "Compose": "写邮件",
    "Continue": "继续",
    "Copied": "已复制",
    "Copy": "复制",
    "Copy address": "复制地址",
    "Create": "创建",
    "Create a user": "创建用户",
    "Create address": "创建地址",
    "Create an address": "创建地址",
    "Create or add an address on the inbox page first.": "请先在收件箱页面创建或添加一个地址。",
    "Created": "创建时间",
    "Creating addresses is reserved to the operator and to logged-in users.": (
        "只有管理员和已登录用户可以创建地址。"
    ),
    "Credential": "凭证",
    "Custom SQL rules (JSON)": "自定义 SQL 规则（JSON）",
    "Daily send quota": "每日发件配额",
    "Danger zone": "危险操作",
    "Dark": "深色",
    "Delete": "删除",
    "Delete address": "删除地址",
    "Delete every mail of this address?": "删除此地址的所有邮件？",
    "Delete every mail of {address}?": "删除 {address} 的所有邮件？",
    "Delete every sent mail of this address?": "删除此地址的所有已发送邮件？",
    "Delete every sent mail of {address}?": "删除 {address} 的所有已发送邮件？",
    "Delete the user {email}? Its addresses stay.": "删除用户 {email}？其地址会保留。",
    "Delete these for good?": "永久删除这些内容？",
    "Delete this address and all its mail for good?": "永久删除此地址及其所有邮件？",
    "Delete this mail?": "删除这封邮件？",
    "Delete {address} and all its mail for good?": "永久删除 {address} 及其所有邮件？",
    "Delete?": "删除？",
    "Domain": "域名",
    "Done": "完成",
    "E-mail": "邮箱",
    "E-mails must match a pattern": "邮箱必须匹配正则表达式",
    "Enabled": "启用",
    "Enter the site password to continue.": "请输入站点密码以继续。",
    "Filter": "筛选",
    "Find addresses": "查找地址",
    "Find users": "查找用户",
    "Forwarding rules (JSON)": "转发规则（JSON）",
    "From": "发件人",
    "Get an address": "获取邮箱地址",
    "Headers (JSON)": "请求头（JSON）",
    "Inbox": "收件箱",
    "Keep this credential somewhere safe: with it anyone can read this mailbox.": (
        "请妥善保存此凭证：任何人拿到它都可以读取这个邮箱。"
    ),
    "Language": "语言",
    "Last active": "最近活跃",
    "Light": "浅色",
    "Log in": "登录",
    "Log out": "退出登录",
    "Logged in": "已登录",
    "Logged out": "已退出登录",
    "Mail content": "邮件内容",
    "Mail sent": "邮件已发送",
    "Mails": "邮件",
    "Mails of my addresses": "我的地址收到的邮件",
    "Mails to addresses that were never created (or were deleted since).": (
        "发往从未创建（或已删除）地址的邮件。"
    ),
    "Main": "主导航",
    "Message": "正文",
    "Method": "方法",
    "Monthly send quota": "每月发件配额",
    "My addresses": "我的地址",
    "Name": "名称",
    "Names refused for new addresses": "禁止用于新地址的名称",
    "New address": "新地址",
    "New address for this account": "为此账户创建新地址",
    "New mail": "新邮件",
    "New password": "新密码",
    "Newer": "较新",
    "New addresses on subdomains": "在子域名上创建新地址",
    "No address in this account yet.": "此账户还没有地址。",
    "No address yet": "还没有地址",
    "No mail yet. New mail shows up here by itself.": "还没有邮件。新邮件会自动显示在这里。",
    "Not available": "不可用",
    "Nothing here.": "这里什么都没有。",
    "Nothing sent yet.": "还没有发送过邮件。",
    "Older": "较早",
    "Only for senders starting with (or /regex/)": "仅回复以此开头的发件人（或 /正则/）",
    "Only these addresses may have webhooks": "只有这些地址可以使用 Webhook",
    "Only these e-mail domains may register": "只允许这些邮箱域名注册",
    "Open inbox": "打开收件箱",
    "Pages": "分页",
    "Password": "密码",
    "Password changed": "密码已修改",
    "Paste the credential you saved": "粘贴你保存的凭证",
    "Pattern": "正则表达式",
    "Prefix": "前缀",
    "Reader": "阅读",
    "Received": "接收时间",
    "Recipients nobody may send to": "禁止发送的收件人",
    "Refresh": "刷新",
    "Refused": "不允许",
    "Refuse mail to addresses that were never created": "拒收发往未创建地址的邮件",
    "Register": "注册",
    "Registered: you can log in now": "注册成功，现在可以登录了",
    "Registration is closed on this server.": "本服务器未开放注册。",
    "Remote images blocked to protect your privacy: {n}": "为保护隐私，已阻止远程图片：{n}",
    "Remove from this browser": "从此浏览器移除",
    "Remove {address} from this account? The address itself stays.": (
        "从此账户解绑 {address}？地址本身会保留。"
    ),
    "Reply": "回复",
    "Requested: the operator will decide": "已申请，等待管理员审批",
    "Reset password": "重置密码",
    "Role": "角色",
    "Save": "保存",
    "Saved": "已保存",
    "Search": "搜索",
    "Select a mail to read it.": "选择一封邮件进行阅读。",
    "Send": "发送",
    "Send a test": "发送测试",
    "Send balance": "发件余额",
    "Send code": "发送验证码",
    "Sender of the codes": "验证码发件地址",
    "Senders whose mail is refused": "拒收的发件人",
    "Sending mail is not enabled for this address's domain.": "此地址的域名未启用发件功能。",
    "Sends per day (-1: no limit)": "每日发件上限（-1 为不限）",
    "Sends per month (-1: no limit)": "每月发件上限（-1 为不限）",
    "Sent": "已发送",
    "Sent mails": "已发送邮件",
    "Show credential": "显示凭证",
    "Show remote images": "显示远程图片",
    "Site password": "站点密码",
    "Skip to content": "跳到正文",
    "Something went wrong": "出错了",
    "Sort by": "排序",
    "Source": "原文",
    "Subject": "主题",
    "Text version": "纯文本版本",
    "The message is HTML": "正文是 HTML",
    "The server cannot be reached": "无法连接服务器",
    "The test call succeeded": "测试调用成功",
    "Their name": "收件人名称",
    "Theme": "主题配色",
    "This is not an address credential": "这不是地址凭证",
    "This site is private": "这是私有站点",
    "To": "收件人",
    "Unbind": "解绑",
    "Use an address you already have": "使用已有的地址",
    "User registration": "用户注册",
    "Users": "用户",
    "Verification code": "验证码",
    "Verify the e-mail with a code": "用验证码验证邮箱",
    "Webhook": "Webhook",
    "Webhook for every mail": "所有邮件的 Webhook",
    "Webhooks": "Webhook",
    "What": "清理内容",
    "Your addresses": "你的地址",
    "Your name": "你的名称",
    "days": "天",
    "envelope": "信封",
    "name": "名称",
    "name (empty: random)": "名称（留空则随机）",
    "older than (days)": "早于（天）",
    "only this address (empty: all)": "仅此地址（留空为全部）",
    "part of the address": "地址的一部分",
    "part of the e-mail": "邮箱的一部分",
    "to": "收件人",
    "{n} in total": "共 {n} 条",
    "{n} mails": "{n} 封邮件",
}
