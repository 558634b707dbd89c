"""Login throttling and lockout: counted in the database per username and per address, the same
Chinese message whether or not the user exists, lifted by time or by an administrator, audited."""
from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from xinfang.accounts import throttle
from xinfang.accounts.models import LoginFailure, Lockout, Scope
from xinfang.audit.log import verify
from xinfang.audit.models import AuditEntry

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_MAX_FAILURES_PER_USER = 3
    settings.LOGIN_MAX_FAILURES_PER_IP = 6
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    settings.LOGIN_LOCKOUT_SECONDS = 900


def attempt(username, password, ip="10.0.0.1"):
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password})
    return client, response


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_login_page_is_served_by_accounts(db):
    assert reverse("login") == LOGIN and reverse("logout") == "/accounts/logout/"
    response = Client().get(LOGIN)
    assert response.status_code == 200 and "信访工作平台" in response.content.decode()


def test_right_password_logs_in_and_is_audited(cast):
    client, response = attempt("handler", PASSWORD)
    assert response.status_code == 302 and logged_in(client)
    entry = AuditEntry.objects.filter(action="accounts.login").last()
    assert entry.actor == cast.handler and entry.data["ip"] == "10.0.0.1"


def test_failures_lock_the_username_and_the_message_does_not_reveal_existence(cast):
    for _i in range(2):
        _c, response = attempt("handler", "wrong-Password-1")
        assert "用户名或密码不正确" in response.content.decode()
    _c, response = attempt("handler", "wrong-Password-1")  # the third failure locks
    locked_existing = response.content.decode()
    assert "登录失败次数过多" in locked_existing
    # Now even the right password is refused, without being checked.
    client, response = attempt("handler", PASSWORD)
    assert not logged_in(client) and "登录失败次数过多" in response.content.decode()

    # A username that does not exist behaves exactly the same way.
    for _i in range(3):
        _c, response = attempt("nobody-here", "wrong-Password-1", ip="10.0.0.5")
    assert "登录失败次数过多" in response.content.decode()
    assert Lockout.objects.filter(scope=Scope.USER, key="nobody-here").exists()

    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("accounts.login_failed") == 6 and actions.count("accounts.lockout") == 2
    assert verify()[1] is None


def test_other_users_are_not_locked_by_someone_elses_failures(cast):
    for _i in range(3):
        attempt("handler", "wrong-Password-1", ip="10.0.0.2")
    client, _response = attempt("head", PASSWORD, ip="10.0.0.3")
    assert logged_in(client)


def test_lock_ends_after_the_period(cast, travel):
    for _i in range(3):
        attempt("handler", "wrong-Password-1")
    client, _r = attempt("handler", PASSWORD)
    assert not logged_in(client)
    from tests.conftest import NOW
    travel(NOW + dt.timedelta(seconds=901))
    client, _r = attempt("handler", PASSWORD)
    assert logged_in(client)
    # A successful login forgets the user's earlier failures.
    assert not LoginFailure.objects.filter(scope=Scope.USER, key="handler").exists()


def test_failures_outside_the_window_do_not_count(cast, travel):
    from tests.conftest import NOW
    attempt("handler", "wrong-Password-1")
    attempt("handler", "wrong-Password-1")
    travel(NOW + dt.timedelta(seconds=601))
    _c, response = attempt("handler", "wrong-Password-1")
    assert "登录失败次数过多" not in response.content.decode()
    client, _r = attempt("handler", PASSWORD)
    assert logged_in(client)


def test_many_usernames_from_one_address_lock_the_address(cast):
    for i in range(6):
        attempt(f"guess{i}", "wrong-Password-1", ip="10.9.9.9")
    client, response = attempt("handler", PASSWORD, ip="10.9.9.9")
    assert not logged_in(client) and "登录失败次数过多" in response.content.decode()
    client, _r = attempt("handler", PASSWORD, ip="10.9.9.10")
    assert logged_in(client)


def test_usernames_are_counted_case_insensitively(cast):
    for name in ("Handler", "HANDLER", "handler"):
        attempt(name, "wrong-Password-1")
    assert throttle.check("handler", "") is not None


def test_admin_unlocks_and_it_is_audited(cast):
    for _i in range(3):
        attempt("handler", "wrong-Password-1")
    lock = Lockout.objects.get(scope=Scope.USER, key="handler")
    admin = Client()
    admin.force_login(cast.admin)
    response = admin.post("/admin/accounts/lockout/", {"action": "unlock", "_selected_action": [lock.pk]})
    assert response.status_code == 302
    lock.refresh_from_db()
    assert lock.unlocked_by == cast.admin and not lock.active
    entry = AuditEntry.objects.get(action="accounts.unlock")
    assert entry.actor == cast.admin and entry.data["key"] == "handler"
    client, _r = attempt("handler", PASSWORD)
    assert logged_in(client)


def test_a_non_admin_cannot_unlock(cast):
    for _i in range(3):
        attempt("handler", "wrong-Password-1")
    lock = Lockout.objects.get(scope=Scope.USER, key="handler")
    staff = Client()
    staff.force_login(cast.head)
    response = staff.post("/admin/accounts/lockout/", {"action": "unlock", "_selected_action": [lock.pk]})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Lockout.objects.get(pk=lock.pk).active


def test_client_address_from_a_trusted_proxy_header(settings, rf):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    assert throttle.client_ip(request) == "127.0.0.1"
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert throttle.client_ip(request) == "5.6.7.8"


def test_the_admin_login_goes_through_the_throttled_login(cast):
    response = Client().get("/admin/login/?next=/admin/orgs/user/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admin/orgs/user/"
    posted = Client().post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert posted.status_code == 302 and "_auth_user_id" not in Client().session
    staff = Client()
    staff.force_login(cast.registrar)
    assert staff.get("/admin/login/").status_code == 302  # no loop for a non-admin


def test_old_failures_are_purged(cast, travel):
    from tests.conftest import NOW
    from xinfang.accounts.tasks import purge_login_failures
    attempt("handler", "wrong-Password-1")
    travel(NOW + dt.timedelta(seconds=300))
    attempt("head", "wrong-Password-1", ip="10.0.0.7")
    travel(NOW + dt.timedelta(seconds=700))
    purge_login_failures.call_local()
    assert set(LoginFailure.objects.values_list("key", flat=True)) == {"head", "10.0.0.7"}
    assert AuditEntry.objects.filter(action="accounts.login_failed").count() == 2
