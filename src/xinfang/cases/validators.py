"""Validation of petitioner identity data."""
from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$")


def id_check_digit(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def validate_id_number(value: str) -> str:
    """Validate an 18-digit resident ID (GB 11643): digits, birth date, check digit. Returns it
    normalised (upper-case X)."""
    value = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(_("身份证号码应为18位,前17位为数字,最后一位为数字或X。"), code="id_format")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birth") from None
    if birth < dt.date(1900, 1, 1) or birth > dt.date.today():
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="id_birth")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("身份证号码校验位不正确,请核对。"), code="id_checksum")
    return value


def validate_phone(value: str) -> str:
    value = re.sub(r"[\s()()]", "", value or "")
    if value and not _PHONE.match(value):
        raise ValidationError(_("联系电话格式不正确(手机号11位,或带区号的固定电话)。"), code="phone")
    return value


def mask_id_number(value: str) -> str:
    """4301**********1234 — shown wherever the full number is not needed (PIPL)."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else value


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else value
