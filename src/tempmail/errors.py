"""Errors the API answers with (a status code and a plain-text body, as the reference does), and
the two failures of sending a mail, which cross from `tempmail.outbound` to the code that asks
for a mail to be sent (accounts send verification codes through an interface of their own).

The English text is the contract (clients match on it). The Chinese texts are the reference's own
(cloudflare_temp_email v1.12, COMPAT.md §2), byte for byte, so a client that matches on them keeps
working. Texts with a variable part are templates; a parameter whose value is itself a text of the
table is translated too, so composite texts need no entry of their own:
`ApiError(400, "Failed to create address: {inner}", inner="Invalid domain")` is
`创建邮箱地址失败: 无效的域名` in Chinese.

Beyond the reference's two languages, `x-lang` (or DEFAULT_LANG) may name es, pt-BR, ja or de;
their texts, and the Chinese of the error texts tempmail has beyond the reference's, live in
`tempmail.locales`. The reference's texts outside its table stay English in every language.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from tempmail.locales import canonical, catalog

CHINESE = "zh"


def language(x_lang: str | None, default_lang: str | None) -> str:
    """The language of an answer, as the reference chooses it: the `x-lang` header when sent
    (and not empty), else DEFAULT_LANG; only exactly `zh` is Chinese (`zh-CN` is English). The
    languages the reference lacks are named as exactly: `es`, `ja`, `de`, `pt-BR` (or `pt-br`,
    `pt`); anything else is English."""
    return canonical(x_lang or default_lang or "") or "en"


class ApiError(Exception):
    """Raised anywhere under a request; the app turns it into `status` + translated text."""

    def __init__(self, status: int, template: str, **params: Any) -> None:
        super().__init__(template.format(**params))
        self.status = status
        self.template = template
        self.params = params

    def text(self, lang: str | None) -> str:
        """The text in `lang` (a value of `language()`)."""
        lang = lang or "en"
        texts = table(lang)
        if not texts:
            return str(self)
        params = {
            key: translate(value, lang) if isinstance(value, str) else value
            for key, value in self.params.items()
        }
        if self.template in texts:
            return texts[self.template].format(**params)
        return translate(self.template.format(**params), lang)


@cache
def table(lang: str) -> dict[str, str]:
    """The error texts of `lang` by their English: for Chinese the reference's table, and
    tempmail's own texts after it; none for English (or a language we do not have)."""
    own = catalog(lang).api
    if lang != CHINESE:
        return dict(own)
    return ZH | {english: text for english, text in own.items() if english not in ZH}


def translate(text: str, lang: str) -> str:
    """The `lang` text of an English text of its table, or of a composite built from one; any
    other text (a name, a detail, the English-only texts) as it is."""
    texts = table(lang)
    if text in texts:
        return texts[text]
    for pattern, template, names in _composites(lang):
        match = pattern.fullmatch(text)
        if match:
            return template.format(**{name: translate(match.group(name), lang) for name in names})
    return text


@cache
def _composites(lang: str) -> list[tuple[re.Pattern[str], str, list[str]]]:
    """The templates of `lang`'s table with a `{param}`, as patterns that recognise a
    filled-in text."""
    found = []
    for english, translated in table(lang).items():
        names = re.findall(r"\{(\w+)\}", english)
        if not names:
            continue
        regex = "".join(
            f"(?P<{part}>.*)" if index % 2 else re.escape(part)
            for index, part in enumerate(re.split(r"\{(\w+)\}", english))
        )
        found.append((re.compile(regex, re.DOTALL), translated, names))
    return found


class SendFailed(Exception):
    """The mail was not accepted for delivery; the message says why, for the caller's 400."""


class InvalidMail(ValueError):
    """What was asked cannot be a well-formed mail (bad address, CR/LF in a header)."""


SITE_PASSWORD = "You have enabled the private site password, please provide the password"
ADDRESS_CREDENTIAL = "Invalid address credential"
ADMIN_PASSWORD = "You need to provide the admin password to access this page"
USER_TOKEN = "Your token has expired, please login again"
ACCESS_TOKEN_EXPIRED = "Your access token has expired, please refresh the page"
NOT_ADMIN_ROLE = "Your user role is not admin, no access to visit this page"
DELETE_DISABLED = "User delete address/email is disabled, please contact the administrator"
# A body the route cannot use (the reference's InvalidInputMsg).
INVALID_INPUT = "Invalid input"

# The reference's en -> zh table (COMPAT.md §2), then the composite forms built from its texts.
# English-only texts (`Name[<name>]is blocked`, `Name not match regex: /<re>/`, `Invalid config
# key`, the IP-control texts, `Not available`, the test-route texts...) are deliberately absent,
# here and in every language of `tempmail.locales` (tests/test_translations.py lists them).
ZH: dict[str, str] = {
    "You have enabled the private site password, please provide the password": "你已启用私有站点密码,请提供密码",  # CustomAuthPasswordMsg
    "Your token has expired, please login again": "您的令牌已过期, 请重新登录",  # UserTokenExpiredMsg
    "Your access token has expired, please refresh the page": "您的访问令牌已过期, 请刷新页面",  # UserAcceesTokenExpiredMsg
    "Your user role is not admin, no access to visit this page": "您的用户角色不是管理员, 无权访问",  # UserRoleIsNotAdminMsg
    "You need to provide the admin password to access this page": "您需要提供管理员密码才能访问此页面",  # NeedAdminPasswordMsg
    "KV is not available, please contact the administrator": "KV 不可用, 请联系管理员",  # KVNotAvailableMsg
    "Webhook is not enabled, please contact the administrator": "Webhook 未启用, 请联系管理员",  # WebhookNotEnabledMsg
    "Domains are not set, please contact the administrator": "域名列表未设置, 请联系管理员",  # DomainsNotSetMsg
    "Human verification check failed": "人机验证检查失败",  # TurnstileCheckFailedMsg
    "New address is disabled, please contact the administrator": "新建邮箱地址已禁用, 请联系管理员",  # NewAddressDisabledMsg
    "New address for anonymous user is disabled, please contact the administrator": "匿名用户新建邮箱地址已禁用, 请联系管理员",  # NewAddressAnonymousDisabledMsg
    "Failed to create address": "创建邮箱地址失败",  # FailedCreateAddressMsg
    "Invalid address": "无效的邮箱地址",  # InvalidAddressMsg
    "Invalid address credential": "无效的邮箱地址凭据",  # InvalidAddressCredentialMsg
    "User delete address/email is disabled, please contact the administrator": "用户删除邮箱/邮件已禁用, 请联系管理员",  # UserDeleteEmailDisabledMsg
    "User not found": "用户不存在",  # UserNotFoundMsg
    "User already exists, please login": "用户已存在, 请登录",  # UserAlreadyExistsMsg
    "Failed to register": "注册失败",  # FailedToRegisterMsg
    "User registration is disabled, please contact the administrator": "用户注册已禁用, 请联系管理员",  # UserRegistrationDisabledMsg
    "User mail domain must be in this list": "用户邮箱域必须在此列表中",  # UserMailDomainMustInMsg
    "Email address format does not match the required pattern": "邮箱地址格式不符合要求",  # UserEmailNotMatchRegexMsg
    "Invalid verify code": "无效的验证码",  # InvalidVerifyCodeMsg
    "Invalid email or password": "无效的邮箱或密码",  # InvalidEmailOrPasswordMsg
    "Verify mail sender address is not set, please contact the administrator": "验证邮件发送邮箱未设置, 请联系管理员",  # VerifyMailSenderNotSetMsg
    "Code already sent, please wait": "验证码已发送, 请稍等",  # CodeAlreadySentMsg
    "Invalid user default role, please contact the administrator": "无效的用户默认角色, 请联系管理员",  # InvalidUserDefaultRoleMsg
    "Failed to update user default role, please contact the administrator": "更新用户默认角色失败, 请联系管理员",  # FailedUpdateUserDefaultRoleMsg
    "Oauth2 client ID is not set, please contact the administrator": "Oauth2 客户端 ID 未设置, 请联系管理员",  # Oauth2ClientIDNotFoundMsg
    "Oauth2 client ID or code is missing": "Oauth2 客户端 ID 或 code 缺失",  # Oauth2CliendIDOrCodeMissingMsg
    "Failed to get user info from Oauth2 provider": "从 Oauth2 提供商获取用户信息失败",  # Oauth2FailedGetUserInfoMsg
    "Failed to get access token from Oauth2 provider": "从 Oauth2 提供商获取访问令牌失败",  # Oauth2FailedGetAccessTokenMsg
    "Failed to get user email from Oauth2 provider": "从 Oauth2 提供商获取用户邮箱失败",  # Oauth2FailedGetUserEmailMsg
    "Password change is disabled": "密码修改已禁用",  # PasswordChangeDisabledMsg
    "New password is required": "新密码不能为空",  # NewPasswordRequiredMsg
    "Invalid address token": "无效的地址令牌",  # InvalidAddressTokenMsg
    "Failed to update password": "更新密码失败",  # FailedUpdatePasswordMsg
    "Password login is disabled": "密码登录已禁用",  # PasswordLoginDisabledMsg
    "Email and password are required": "邮箱和密码不能为空",  # EmailPasswordRequiredMsg
    "Address not found": "邮箱地址不存在",  # AddressNotFoundMsg
    "Operation failed": "操作失败",  # OperationFailedMsg
    "Required field is missing": "缺少必填字段",  # RequiredFieldMsg
    "Invalid input": "输入无效",  # InvalidInputMsg
    "Name is too short": "名称太短",  # NameTooShortMsg
    "Name is too long": "名称太长",  # NameTooLongMsg
    "Invalid domain": "无效的域名",  # InvalidDomainMsg
    "Random subdomain is not enabled for this domain": "当前域名未启用随机子域名",  # RandomSubdomainNotAllowedMsg
    "Address already exists": "邮箱地址已存在",  # AddressAlreadyExistsMsg
    "Max address count reached": "已达到最大地址数量限制",  # MaxAddressCountReachedMsg
    "Address is not binded": "邮箱地址未绑定",  # AddressNotBindedMsg
    "Address is already binded, please unbind first": "邮箱地址已绑定, 请先解绑",  # AddressAlreadyBindedMsg
    "Target user not found": "目标用户不存在",  # TargetUserNotFoundMsg
    "No balance": "余额不足",  # NoBalanceMsg
    "Address is blocked": "地址已被屏蔽",  # AddressBlockedMsg
    "Subject is empty": "主题不能为空",  # SubjectEmptyMsg
    "Content is empty": "内容不能为空",  # ContentEmptyMsg
    "Already requested": "已经申请过了",  # AlreadyRequestedMsg
    "Please enable resend, smtp or SEND_MAIL for this domain": "请先为此域名启用 resend、smtp 或 SEND_MAIL",  # EnableResendOrSmtpOrSendMailMsg
    "Server daily send quota has been reached": "服务器今日发信次数已达上限",  # ServerSendMailDailyLimitMsg
    "Server monthly send quota has been reached": "服务器本月发信次数已达上限",  # ServerSendMailMonthlyLimitMsg
    "Invalid recipient address": "收件人地址无效",  # InvalidToMailMsg
    "Invalid address_id": "无效的 address_id",  # InvalidAddressIdMsg
    "Please enable KV first": "请先启用 KV",  # EnableKVMsg
    "Please enable SEND_MAIL first": "请先启用 SEND_MAIL",  # EnableSendMailMsg
    "Please enable SEND_MAIL for this domain first": "请先为此域名启用 SEND_MAIL",  # EnableSendMailForDomainMsg
    "Invalid cleanType or cleanDays": "无效的 cleanType 或 cleanDays",  # InvalidCleanupConfigMsg
    "Invalid cleanType": "无效的 cleanType",  # InvalidCleanTypeMsg
    "Please enable KV first if you want to enable mail verify": "如果要启用邮件验证，请先启用 KV",  # EnableKVForMailVerifyMsg
    "VerifyMailSender domain must be in": "验证邮件发送者域名必须在",  # VerifyMailDomainInvalidMsg
    "Invalid maxAddressCount": "无效的 maxAddressCount",  # InvalidMaxAddressCountMsg
    "Failed to delete user": "删除用户失败",  # FailedDeleteUserMsg
    "Invalid user_id": "无效的 user_id",  # InvalidUserIdMsg
    "Invalid role_text": "无效的 role_text",  # InvalidRoleTextMsg
    "SQL statement is empty": "SQL 语句为空",  # SqlEmptyMsg
    "SQL statement is too long (max 1000 characters)": "SQL 语句过长 (最大 1000 字符)",  # SqlTooLongMsg
    "Only DELETE statements are allowed": "只允许 DELETE 语句",  # SqlOnlyDeleteMsg
    "Only single SQL statement is allowed": "只允许单条 SQL 语句",  # SqlSingleStatementMsg
    "SQL comments are not allowed": "不允许 SQL 注释",  # SqlNoCommentsMsg
    "Invalid passkey name": "无效的 passkey 名称",  # InvalidPasskeyNameMsg
    "Passkey not found": "Passkey 不存在",  # PasskeyNotFoundMsg
    "Authentication failed": "认证失败",  # AuthenticationFailedMsg
    "Registration failed": "注册失败",  # RegistrationFailedMsg
    "Auto reply is disabled": "自动回复已禁用",  # AutoReplyDisabledMsg
    "Invalid subject or message": "无效的主题或消息",  # InvalidAutoReplyMsg
    "Subject or message is too long": "主题或消息太长",  # SubjectOrMessageTooLongMsg
    "No address or user token": "缺少地址或用户令牌",  # NoAddressOrUserTokenMsg
    "Invalid address or user token": "无效的地址或用户令牌",  # InvalidAddressOrUserTokenMsg
    "Invalid limit": "无效的 limit 参数",  # InvalidLimitMsg
    "Invalid offset": "无效的 offset 参数",  # InvalidOffsetMsg
    "Failed to clear inbox": "清空收件箱失败",  # FailedClearInboxMsg
    "Failed to clear sent items": "清空已发送邮件失败",  # FailedClearSentItemsMsg
    "Webhook settings is not allowed for this user": "此用户不允许使用 Webhook 设置",  # WebhookNotAllowedForUserMsg
    "Invalid IP blacklist setting": "无效的 IP 黑名单设置",  # InvalidIpBlacklistSettingMsg
    "Blacklist exceeds maximum size": "黑名单超出最大条目限制",  # BlacklistExceedsMaxSizeMsg
    "TELEGRAM_BOT_TOKEN is required": "需要设置 TELEGRAM_BOT_TOKEN",  # TgBotTokenRequiredMsg
    "Failed to create address: {inner}": "创建邮箱地址失败: {inner}",
    "Operation failed: {inner}": "操作失败: {inner}",
    "Name is too short (min {min})": "名称太短 (min {min})",
    "Name is too long (max {max})": "名称太长 (max {max})",
    "Please enable resend, smtp or SEND_MAIL for this domain ({domain})": "请先为此域名启用 resend、smtp 或 SEND_MAIL ({domain})",
    "User mail domain must be in this list {domains}": "用户邮箱域必须在此列表中 {domains}",
    "Email address format does not match the required pattern: /{pattern}/": "邮箱地址格式不符合要求: /{pattern}/",
    "VerifyMailSender domain must be in {domains}": "验证邮件发送者域名必须在 {domains}",
    "Invalid IP blacklist setting: {detail}": "无效的 IP 黑名单设置: {detail}",
    "Blacklist exceeds maximum size: {detail}": "黑名单超出最大条目限制: {detail}",
    "Invalid input: {detail}": "输入无效: {detail}",
}
