"""The optional second login step: time-based one-time codes (RFC 6238) and recovery codes.

Contract: `start_enrolment(user)` gives an unconfirmed device (a fresh secret); `confirm(device,
code)` activates it and returns the recovery codes in clear (shown once, stored hashed);
`verify(user, code)` accepts a current code (never the same time step twice) or an unused
recovery code (which is then spent); `disable(user)` removes the device. All are audited.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from xinfang.audit.log import append

from .models import RecoveryCode, TOTPDevice

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper


def totp_required_for(user) -> bool:
    required = set(getattr(settings, "TOTP_REQUIRED_ROLES", []) or [])
    if not required or not user.is_authenticated:
        return False
    if "superuser" in required and user.is_superuser:
        return True
    if "staff" in required and user.is_staff:
        return True
    return bool(set(getattr(user, "roles", None) or []) & required)


def device_for(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user).first() if getattr(user, "pk", None) else None


def has_totp(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def provisioning_uri(device: TOTPDevice) -> str:
    return pyotp.TOTP(device.secret).provisioning_uri(name=device.user.get_username(), issuer_name=settings.TOTP_ISSUER)


def start_enrolment(user) -> TOTPDevice:
    """The user's device, created unconfirmed with a fresh secret if there is none. Reloading the
    enrolment page keeps the secret, so a key already typed into the app stays valid."""
    device = device_for(user)
    if device is not None:
        return device
    return TOTPDevice.objects.create(user=user, secret=pyotp.random_base32())


def _hash(code: str, salt: str) -> str:
    return salt + "$" + hashlib.sha256((salt + normalise_code(code)).encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c.isalnum())


def _new_recovery_codes(device: TOTPDevice) -> list[str]:
    device.recovery_codes.all().delete()
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _j in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        RecoveryCode.objects.create(device=device, code_hash=_hash(code, secrets.token_hex(8)))
        codes.append(code)
    return codes


def _match_step(device: TOTPDevice, code: str) -> int | None:
    code = normalise_code(code)
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(device.secret)
    now_step = totp.timecode(timezone.now())
    # One step either side tolerates a phone clock off by up to 30 seconds.
    for step in (now_step - 1, now_step, now_step + 1):
        if step > device.last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(device: TOTPDevice, step: int) -> bool:
    # Conditional update: two processes presenting the same code cannot both win.
    return bool(TOTPDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step))


def confirm(device: TOTPDevice, code: str) -> list[str] | None:
    """Activate the device if `code` is current; returns the recovery codes, or None."""
    step = _match_step(device, code)
    if step is None:
        return None
    with transaction.atomic():
        if not _use_step(device, step):
            return None
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed_at"])
        codes = _new_recovery_codes(device)
        append(device.user, "accounts.totp_enabled", device.user)
    return codes


def verify(user, code: str) -> str | None:
    """'totp' or 'recovery' when `code` is accepted for this user's active device, else None."""
    device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return None
    step = _match_step(device, code)
    if step is not None:
        return "totp" if _use_step(device, step) else None
    wanted = normalise_code(code)
    if len(wanted) != 12:
        return None
    for rc in device.recovery_codes.filter(used_at__isnull=True):
        salt = rc.code_hash.split("$", 1)[0]
        if hmac.compare_digest(_hash(wanted, salt), rc.code_hash):
            with transaction.atomic():
                spent = RecoveryCode.objects.filter(pk=rc.pk, used_at__isnull=True).update(used_at=timezone.now())
                if spent:
                    append(user, "accounts.recovery_code_used", user)
            return "recovery" if spent else None
    return None


def regenerate_recovery_codes(user) -> list[str]:
    device = TOTPDevice.objects.get(user=user, confirmed_at__isnull=False)
    with transaction.atomic():
        codes = _new_recovery_codes(device)
        append(user, "accounts.recovery_codes_regenerated", user)
    return codes


def disable(user, by) -> bool:
    """Remove the user's device (the user with a current code, or an administrator resetting it)."""
    with transaction.atomic():
        deleted = TOTPDevice.objects.filter(user=user).delete()[0]
        if deleted:
            append(by, "accounts.totp_disabled" if by == user else "accounts.totp_reset", user)
    return bool(deleted)
