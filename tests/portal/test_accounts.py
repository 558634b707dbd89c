"""Citizen accounts: no organ, no roles, no staff rights; they list what they submitted."""
from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.cases.access import cases_visible_to
from xinfang.orgs.models import User

pytestmark = pytest.mark.django_db

GOOD = "Qing-tian-2026-xf"


def test_signup_makes_a_citizen_account_and_logs_in(client, cast, submit):
    response = client.post(reverse("portal:signup"), {"username": "liu_shimin", "full_name": "刘市民",
                                                      "password1": GOOD, "password2": GOOD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:mine")
    user = User.objects.get(username="liu_shimin")
    assert user.organ is None and user.roles == [] and not user.is_staff
    case, _code = submit()
    assert case.number in client.get(reverse("portal:mine")).content.decode()
    assert not cases_visible_to(user).exists()  # the workbench shows a citizen nothing
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 404


def test_signup_refuses_taken_names_weak_and_mismatched_passwords(client, cast):
    url = reverse("portal:signup")
    taken = client.post(url, {"username": "citizen", "full_name": "x", "password1": GOOD, "password2": GOOD})
    assert taken.status_code == 400 and "该用户名已被使用" in taken.content.decode()
    mismatch = client.post(url, {"username": "newcomer", "full_name": "x", "password1": GOOD, "password2": GOOD + "1"})
    assert mismatch.status_code == 400 and "两次输入的密码不一致" in mismatch.content.decode()
    weak = client.post(url, {"username": "newcomer", "full_name": "x", "password1": "123", "password2": "123"})
    assert weak.status_code == 400 and "newcomer" in weak.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


def test_the_portal_login_goes_through_the_one_login_page(client):
    response = client.get(reverse("portal:login"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "next=/portal/mine/" in response["Location"]
