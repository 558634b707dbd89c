"""Password rules beyond Django's own validators (settings.AUTH_PASSWORD_VALIDATORS)."""
from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class ComplexityValidator:
    """At least `min_length` characters drawn from at least `min_classes` of the four classes:
    upper-case letters, lower-case letters, digits, symbols (anything else, CJK included)."""

    def __init__(self, min_length: int = 10, min_classes: int = 3):
        self.min_length = min_length
        self.min_classes = min_classes

    @staticmethod
    def classes(password: str) -> int:
        upper = any(c in string.ascii_uppercase for c in password)
        lower = any(c in string.ascii_lowercase for c in password)
        digit = any(c.isdigit() for c in password)
        symbol = any(not (c in string.ascii_letters or c.isdigit()) for c in password)
        return upper + lower + digit + symbol

    def validate(self, password: str, user=None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(_("密码至少需要 %(n)d 个字符。") % {"n": self.min_length}, code="password_too_short")
        if self.classes(password) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("至少 %(len)d 个字符,且包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {
            "len": self.min_length, "n": self.min_classes}
