"""Errors the API answers with (a status code and a plain-text body, as the reference does), and
the two failures of sending a mail, which cross from `tempmail.outbound` to the code that asks
for a mail to be sent (accounts send verification codes through an interface of their own).

The English text is the contract (clients match on it); `x-lang: zh` asks for the Chinese text
where we have one. Texts with a variable part are templates, translated before filling in.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised anywhere under a request; the app turns it into `status` + translated text."""

    def __init__(self, status: int, template: str, **params: Any) -> None:
        super().__init__(template.format(**params))
        self.status = status
        self.template = template
        self.params = params

    def text(self, lang: str | None) -> str:
        if lang and lang.lower().startswith("zh") and self.template in ZH:
            return ZH[self.template].format(**self.params)
        return str(self)


class SendFailed(Exception):
    """The mail was not accepted for delivery; the message says why, for the caller's 400."""


class InvalidMail(ValueError):
    """What was asked cannot be a well-formed mail (bad address, CR/LF in a header)."""


SITE_PASSWORD = "You have enabled the private site password, please provide the password"
ADDRESS_CREDENTIAL = "Invalid address credential"
ADMIN_PASSWORD = "You need to provide the admin password to access this page"
USER_TOKEN = "Your token has expired, please login again"
DELETE_DISABLED = "User delete address/email is disabled, please contact the administrator"

ZH: dict[str, str] = {
    SITE_PASSWORD: "您已启用私有站点密码，请提供密码",
    ADDRESS_CREDENTIAL: "无效的邮箱地址凭证",
    ADMIN_PASSWORD: "您需要提供管理员密码才能访问此页面",
    USER_TOKEN: "您的登录已过期，请重新登录",
    DELETE_DISABLED: "用户删除邮箱/邮件已禁用，请联系管理员",
    "Invalid limit": "无效的 limit",
    "Invalid offset": "无效的 offset",
    "Invalid address": "无效的地址",
    "Address not found": "地址不存在",
    "New address is disabled, please contact the administrator": "创建新地址已禁用，请联系管理员",
    "New address for anonymous user is disabled, please contact the administrator": "匿名用户创建新地址已禁用，请联系管理员",
    "Failed to create address: Name is too short (min {min})": "创建地址失败：名称太短（最少 {min}）",
    "Failed to create address: Name is too long (max {max})": "创建地址失败：名称太长（最多 {max}）",
    "Failed to create address: Invalid domain": "创建地址失败：无效的域名",
    "Failed to create address: Address already exists": "创建地址失败：地址已存在",
    "Failed to create address: Name is not valid": "创建地址失败：名称不合法",
    "Name[{name}]is blocked": "名称[{name}]已被屏蔽",
    "Password login is disabled": "密码登录已禁用",
    "Password change is disabled": "修改密码已禁用",
    "New password is required": "需要提供新密码",
    "Email and password are required": "需要提供邮箱和密码",
    "Invalid email or password": "邮箱或密码错误",
    "Required field is missing": "缺少必填字段",
    "Invalid input: {detail}": "无效的输入：{detail}",
    "Domains are not set, please contact the administrator": "未设置域名，请联系管理员",
    "Not available": "不可用",
    "User not found": "用户不存在",
    "User already exists, please login": "用户已存在，请登录",
    "User registration is disabled, please contact the administrator": "用户注册已禁用，请联系管理员",
    "Invalid verify code": "无效的验证码",
    "Code already sent, please wait": "验证码已发送，请稍候",
    "Verify mail sender address is not set, please contact the administrator": "未设置验证邮件发件地址，请联系管理员",
    "Failed to send verify code: {reason}": "发送验证码失败：{reason}",
    "User mail domain must be in this list {domains}": "用户邮箱域名必须在此列表中 {domains}",
    "Email address format does not match the required pattern: /{pattern}/": "邮箱地址格式不符合要求的模式：/{pattern}/",
    "Address is already binded, please unbind first": "地址已被绑定，请先解绑",
    "Address is not binded": "地址未绑定",
    "Max address count reached": "已达到最大地址数量",
    "Target user not found": "目标用户不存在",
    "Invalid role: {role}": "无效的角色：{role}",
    "Invalid OAuth2 client ID": "无效的 OAuth2 客户端 ID",
    "OAuth2 login failed: {reason}": "OAuth2 登录失败：{reason}",
    "Passkey verification failed: {reason}": "通行密钥验证失败：{reason}",
    "Passkey not found": "通行密钥不存在",
    "Not Found": "未找到",
    "address and raw are required": "需要提供 address 和 raw",
    "raw content too large": "raw 内容过大",
    "message_id too long": "message_id 过长",
}
