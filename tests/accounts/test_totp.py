"""Optional TOTP for staff: enrol with one code, second login step, single-use recovery codes,
disable with a current code, administrator reset, compulsory for configured roles."""
from __future__ import annotations

import pyotp
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD
from xinfang.accounts import totp
from xinfang.accounts.models import RecoveryCode, TOTPDevice
from xinfang.audit.models import AuditEntry


def code_for(device, when=None):
    return pyotp.TOTP(device.secret).at(when or timezone.now())


def enrol(user):
    device = totp.start_enrolment(user)
    codes = totp.confirm(device, code_for(device))
    assert codes and len(codes) == 10
    device.refresh_from_db()
    return device, codes


def password_step(username="handler", next_url=""):
    client = Client()
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    response = client.post("/accounts/login/", data)
    return client, response


def test_enrol_page_shows_secret_and_uri_and_one_code_activates(cast):
    client = Client()
    client.force_login(cast.handler)
    page = client.get("/accounts/totp/").content.decode()
    device = TOTPDevice.objects.get(user=cast.handler)
    assert device.secret in page and "otpauth://totp/" in page and device.confirmed_at is None
    bad = client.post("/accounts/totp/", {"code": "000000"})
    assert "验证码不正确" in bad.content.decode()
    done = client.post("/accounts/totp/", {"code": code_for(device)})
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert totp.has_totp(cast.handler)
    # recovery codes are stored hashed only
    stored = list(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert not any(code in h for code in done.context["codes"] for h in stored)
    assert AuditEntry.objects.filter(action="accounts.totp_enabled", actor=cast.handler).exists()


def test_login_without_totp_is_one_step(cast):
    client, response = password_step()
    assert response.status_code == 302 and response["Location"] == "/" and "_auth_user_id" in client.session


def test_second_step_when_enabled(cast, frozen_time):
    device, _codes = enrol(cast.handler)
    frozen_time.shift(60)  # the enrolment code's time step is spent
    client, response = password_step(next_url="/cases/")
    assert response["Location"] == "/accounts/login/verify/" and "_auth_user_id" not in client.session
    assert client.get("/cases/").status_code == 302  # not logged in yet
    wrong = client.post("/accounts/login/verify/", {"code": "123456"})
    assert "验证码不正确" in wrong.content.decode() and "_auth_user_id" not in client.session
    ok = client.post("/accounts/login/verify/", {"code": code_for(device)})
    assert ok.status_code == 302 and ok["Location"] == "/cases/" and "_auth_user_id" in client.session
    # the same code cannot be used again (replay)
    other, _r = password_step()
    again = other.post("/accounts/login/verify/", {"code": code_for(device)})
    assert "_auth_user_id" not in other.session and again.status_code == 200


def test_second_step_expires(cast, frozen_time):
    enrol(cast.handler)
    client, _r = password_step()
    frozen_time.shift(301)
    response = client.post("/accounts/login/verify/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_verify_page_without_password_step_goes_to_login(db):
    response = Client().get("/accounts/login/verify/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_recovery_code_works_once(cast, frozen_time):
    _device, codes = enrol(cast.handler)
    client, _r = password_step()
    ok = client.post("/accounts/login/verify/", {"code": codes[0].upper()})
    assert ok.status_code == 302 and "_auth_user_id" in client.session
    client2, _r = password_step()
    again = client2.post("/accounts/login/verify/", {"code": codes[0]})
    assert again.status_code == 200 and "_auth_user_id" not in client2.session
    assert AuditEntry.objects.filter(action="accounts.recovery_code_used").count() == 1


def test_wrong_second_step_codes_count_toward_lockout(cast, settings):
    settings.LOGIN_MAX_FAILURES_PER_USER = 2
    enrol(cast.handler)
    client, _r = password_step()
    client.post("/accounts/login/verify/", {"code": "111111"})
    locked = client.post("/accounts/login/verify/", {"code": "222222"})
    assert locked.status_code in (200, 302)
    _c, response = password_step()
    assert "登录失败次数过多" in response.content.decode()


def test_disable_needs_a_current_code(cast, frozen_time):
    device, codes = enrol(cast.handler)
    client = Client()
    client.force_login(cast.handler)
    frozen_time.shift(60)
    refused = client.post("/accounts/totp/disable/", {"code": codes[1]})  # a recovery code is not enough
    assert refused.status_code == 400 and totp.has_totp(cast.handler)
    done = client.post("/accounts/totp/disable/", {"code": code_for(device)})
    assert done.status_code == 302 and not totp.has_totp(cast.handler)
    assert AuditEntry.objects.filter(action="accounts.totp_disabled").exists()


def test_regenerate_recovery_codes(cast, frozen_time):
    device, old = enrol(cast.handler)
    client = Client()
    client.force_login(cast.handler)
    frozen_time.shift(60)
    response = client.post("/accounts/totp/recovery/", {"code": code_for(device)})
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert totp.verify(cast.handler, old[0]) is None and totp.verify(cast.handler, new[0]) == "recovery"


def test_admin_resets_a_users_totp(cast):
    device, _codes = enrol(cast.handler)
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post("/admin/accounts/totpdevice/", {"action": "reset", "_selected_action": [device.pk]})
    assert response.status_code == 302 and not totp.has_totp(cast.handler)
    entry = AuditEntry.objects.get(action="accounts.totp_reset")
    assert entry.actor == cast.admin and entry.object_id == str(cast.handler.pk)
    client, response = password_step()
    assert "_auth_user_id" in client.session  # one step again


def test_required_roles_must_enrol_before_anything_else(cast, settings, frozen_time):
    settings.TOTP_REQUIRED_ROLES = ["head", "superuser"]
    client = Client()
    client.force_login(cast.head)
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"] == "/accounts/totp/"
    page = client.get("/accounts/totp/")
    assert page.status_code == 200 and "必须使用两步验证" in page.content.decode()
    device = TOTPDevice.objects.get(user=cast.head)
    client.post("/accounts/totp/", {"code": code_for(device)})
    assert client.get("/cases/").status_code == 200
    # and they cannot switch it off
    frozen_time.shift(60)
    client.post("/accounts/totp/disable/", {"code": code_for(device)})
    assert totp.has_totp(cast.head)
    # a role not listed is untouched
    other = Client()
    other.force_login(cast.handler)
    assert other.get("/cases/").status_code == 200


def test_reloading_the_enrolment_page_keeps_the_secret(cast):
    client = Client()
    client.force_login(cast.handler)
    client.get("/accounts/totp/")
    first = TOTPDevice.objects.get(user=cast.handler).secret
    client.get("/accounts/totp/")
    assert TOTPDevice.objects.get(user=cast.handler).secret == first
    assert TOTPDevice.objects.filter(user=cast.handler).count() == 1
