"""Forms of the account pages: the throttled login, the second login step, the TOTP pages."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.intake.forms import LoginForm

from . import throttle


def locked_message() -> str:
    # Same words for an existing and a non-existing username, and whether the name or the address
    # is locked: the message must not tell an attacker which usernames are real.
    minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
    return _("登录失败次数过多,已暂时锁定,请 %(minutes)d 分钟后再试,或联系系统管理员解锁。") % {"minutes": minutes}


class ThrottledLoginForm(LoginForm):
    """The login form, refusing locked usernames/addresses before checking the password and
    counting every failure (xinfang.accounts.throttle)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        ip = throttle.client_ip(self.request) if self.request else ""
        if throttle.check(username, ip) is not None:
            raise ValidationError(locked_message(), code="locked")
        try:
            return super().clean()
        except ValidationError:
            if throttle.record_failure(username, ip):
                raise ValidationError(locked_message(), code="locked") from None
            raise


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("验证码"), max_length=20, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
                           help_text=gettext_lazy("身份验证器应用显示的 6 位数字;手机丢失时可输入一个恢复码。"),
                           error_messages={"required": gettext_lazy("请输入验证码。")})


class EnrolForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("验证码"), max_length=10, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
                           help_text=gettext_lazy("在身份验证器应用中添加上面的密钥后,输入它显示的 6 位数字。"),
                           error_messages={"required": gettext_lazy("请输入验证码。")})
