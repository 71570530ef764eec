"""The UI's languages: English (the texts themselves), Simplified Chinese (the table below) and
those of `tempmail.locales` (Spanish, Brazilian Portuguese, Japanese, German).

Templates call `t("English text", name=value)`; the English text is the key, as in
`tempmail.errors`, so a text without a translation still reads correctly. The language comes
from the `lang` cookie the switch sets, else the browser's Accept-Language, else DEFAULT_LANG.
A new text needs its Chinese here and its other languages in `tempmail/locales/*.json`
(tests/test_translations.py names what is missing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tempmail.locales import LANGUAGES, catalog

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
    """The language of ours a language tag asks for: any Chinese is zh, any Portuguese pt-BR,
    any other by its primary subtag (`de-AT` is de)."""
    base = tag.lower().split("-")[0]
    if base == "pt":
        return "pt-BR"
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
    table = {"zh": ZH, "en": EN}.get(lang) or catalog(lang).ui

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
    "admin:send": "Send mail",
    "admin:oauth2": "OAuth2 login",
    "admin:ip_access": "IP access",
    "admin:database": "Database",
    "admin:worker": "Configuration",
    "admin:telegram": "Telegram",
    "telegram:webhook": "Webhook (Telegram calls this server)",
    "telegram:polling": "Polling (this server asks Telegram)",
    "clean:mails": "Mails",
    "clean:mails_unknow": "Mails to unknown addresses",
    "clean:sendbox": "Sent mails",
    "clean:addressCreated": "Addresses (by creation date)",
    "clean:inactiveAddress": "Inactive addresses",
    "clean:unboundAddress": "Addresses not bound to a user",
    "clean:emptyAddress": "Addresses without mail",
}

ZH: dict[str, str] = {
    # The inbox's lists and reader (issue 19).
    "Delete the selected mails?": "删除所选邮件？",
    "Select all on this page": "全选本页",
    "Mark read": "标为已读",
    "Mark unread": "标为未读",
    "{n} found": "找到 {n} 封",
    "No mail matches.": "没有匹配的邮件。",
    "Select": "选择",
    "Unread": "未读",
    "Link": "链接",
    "Per page": "每页",
    "Page {n}": "第 {n} 页",
    "Open": "打开",
    "Forward": "转发",
    "Download .eml": "下载 .eml",
    "Full screen": "全屏",
    "Verification link": "验证链接",
    "Sign-in link": "登录链接",
    "Password reset link": "重置密码链接",
    "Search mail": "搜索邮件",
    "Search sender, subject, text": "搜索发件人、主题、正文",
    "Keyboard shortcuts": "键盘快捷键",
    "Next mail": "下一封",
    "Previous mail": "上一封",
    "Open the mail": "打开邮件",
    "Delete the mail": "删除邮件",
    "This list of keys": "这份快捷键列表",
    "Close the list of keys or the full-screen reader": "关闭快捷键列表或全屏阅读",
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
    "admin:send": "发送邮件",
    "admin:oauth2": "OAuth2 登录",
    "admin:ip_access": "IP 访问控制",
    "admin:database": "数据库",
    "admin:worker": "配置",
    "admin:telegram": "Telegram",
    "telegram:webhook": "Webhook（Telegram 调用本服务器）",
    "telegram:polling": "轮询（本服务器向 Telegram 拉取）",
    "Telegram bot": "Telegram 机器人",
    "No bot token is configured.": "未配置机器人令牌。",
    "Set TELEGRAM_BOT_TOKEN (from @BotFather) and restart; TELEGRAM_MODE picks webhook or polling.": (
        "在环境变量中设置 TELEGRAM_BOT_TOKEN（从 @BotFather 获取）并重启；TELEGRAM_MODE 选择 webhook 或轮询。"
    ),
    "Mode": "模式",
    "Addresses per Telegram user": "每个 Telegram 用户的地址数",
    "Updates waiting": "待处理的更新",
    "Last error": "最近的错误",
    "Commands": "命令",
    "none": "无",
    "Set up the webhook and commands": "设置 Webhook 和命令",
    "Remove the webhook and set the commands": "移除 Webhook 并设置命令",
    "Who may use the bot": "谁可以使用机器人",
    "Only the Telegram users listed": "仅限列出的 Telegram 用户",
    "Telegram user ids (one a line)": "Telegram 用户 ID（每行一个）",
    "Mini app URL": "Mini App 地址",
    "Send mail as an address": "以某个地址发送邮件",
    "The mail goes out through the relay of the address's domain; the address's balance is not charged.": (
        "邮件通过该地址域名的中继发出，不扣除该地址的余额。"
    ),
    "From (one of our addresses)": "发件人（本站的地址）",
    "Sender name": "发件人名称",
    "No role is configured (USER_ROLES).": "尚未配置角色（USER_ROLES）。",
    "Role {role}: addresses per user": "角色 {role}：每个用户的地址数",
    "as for every user": "与所有用户相同",
    "Address limits per role": "各角色的地址数上限",
    "Bind an address to a user": "将地址绑定到用户",
    "User's e-mail": "用户邮箱",
    "Bind": "绑定",
    "Name shown on the button": "按钮上显示的名称",
    "Client ID": "Client ID",
    "Client secret": "Client Secret",
    "Authorization URL": "授权 URL",
    "Access token URL": "Access Token URL",
    "Access token answer": "Access Token 响应格式",
    "User info URL": "用户信息 URL",
    "E-mail key in the user info (a.b.0.c)": "用户信息中邮箱的键（a.b.0.c）",
    "Redirect URL": "回调 URL",
    "Logout URL": "登出 URL",
    "Scope": "Scope",
    "E-mail pattern (regex)": "邮箱匹配（正则）",
    "E-mail rewritten as ($1, $2…)": "邮箱改写为（$1、$2…）",
    "Icon URL": "图标 URL",
    "New provider": "新的提供方",
    "Form (urlencoded)": "表单（urlencoded）",
    "Rewrite the e-mail with the pattern": "按正则改写邮箱",
    "Only these e-mail domains may log in": "只允许这些邮箱域名登录",
    "Remove this provider": "删除此提供方",
    "OAuth2 login": "OAuth2 登录",
    "People log in on the account page with these providers. Register this redirect URL at the provider:": (
        "用户可在账户页面通过这些提供方登录。请在提供方处登记此回调 URL："
    ),
    "No provider yet.": "还没有提供方。",
    "Add a provider": "添加提供方",
    "IP access": "IP 访问控制",
    (
        "Who may use the API: refused IPs and browser fingerprints, an allow-list, and a daily "
        "request limit per IP. Entries may be regular expressions."
    ): ("谁可以使用 API：拒绝的 IP 和浏览器指纹、白名单，以及每个 IP 的每日请求上限。条目可以是正则表达式。"),
    "Refuse the IPs and fingerprints below": "拒绝下列 IP 和指纹",
    "Refused IPs (one a line)": "拒绝的 IP（每行一个）",
    "Refused browser fingerprints (one a line)": "拒绝的浏览器指纹（每行一个）",
    "Refused networks by ASN (one a line; kept, never matched here)": (
        "按 ASN 拒绝的网络（每行一个；仅保存，本服务器不匹配）"
    ),
    "Only the allowed IPs below may use the API": "只允许下列 IP 使用 API",
    "Allowed IPs (one a line)": "允许的 IP（每行一个）",
    "Limit the requests of each IP per day": "限制每个 IP 每天的请求数",
    "Requests per IP per day": "每个 IP 每天的请求数",
    "Code and link extraction": "验证码与链接提取",
    "Only for these addresses (else for every address)": "仅对这些地址（否则对所有地址）",
    "Addresses, * for any part (one a line)": "地址，* 匹配任意部分（每行一个）",
    "Unknown": "未知",
    "Database size": "数据库大小",
    "Free on its disk": "所在磁盘的可用空间",
    "Database": "数据库",
    "Disk used: {used} of {total}": "磁盘已用：{used} / {total}",
    "The database server's disks are not visible from here; its size is what PostgreSQL reports.": (
        "此处看不到数据库服务器的磁盘；大小为 PostgreSQL 报告的数值。"
    ),
    "Back end": "后端",
    "Schema version": "结构版本",
    "Not initialized": "未初始化",
    "Version of this release": "此版本的结构版本",
    "The database needs to be brought up to date.": "数据库需要更新。",
    "Initialize": "初始化",
    "Migrate": "迁移",
    "Configuration": "配置",
    (
        "What this server runs with, from its environment; secrets show only as counts. Change them"
        " in the environment and restart."
    ): ("本服务器从环境变量读取的运行配置；密钥只显示个数。请修改环境变量后重启。"),
    "Setting": "设置项",
    "Value": "值",
    "New password for {address}": "{address} 的新密码",
    "This browser cannot use passkeys": "此浏览器不支持通行密钥",
    "The login with the provider did not complete: try again": "通过提供方登录未完成：请重试",
    "Or log in with": "或使用以下方式登录",
    "A passkey": "通行密钥",
    "Passkeys": "通行密钥",
    "Log in with this device's screen lock or a security key instead of the password.": (
        "使用本设备的屏幕锁或安全密钥登录，无需密码。"
    ),
    "Passkey name": "通行密钥名称",
    "Rename": "重命名",
    "Added": "添加于",
    "Delete the passkey {name}?": "删除通行密钥 {name}？",
    "No passkey yet.": "还没有通行密钥。",
    "Name of the new passkey": "新通行密钥的名称",
    "passkey": "通行密钥",
    "Add a passkey": "添加通行密钥",
    "Transfer": "转移",
    "Transferred": "已转移",
    "Give {address} to the user with this e-mail": "将 {address} 转给此邮箱的用户",
    "their account e-mail": "对方的账户邮箱",
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
    "Log in as admin": "以管理员身份登录",
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
    "The admin password is the one tempmail serve printed at its first start (or one of ADMIN_PASSWORDS).": (
        "管理员密码是 tempmail serve 首次启动时打印的那个（或 ADMIN_PASSWORDS 中的一个）。"
    ),
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
