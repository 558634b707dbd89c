"""Strong passwords: Django's validators plus the complexity rule, and the password-change page."""
from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from tests.conftest import PASSWORD
from xinfang.accounts.validators import ComplexityValidator
from xinfang.audit.models import AuditEntry


@pytest.mark.parametrize("password, ok", [
    ("Abcdefgh12", True),        # upper, lower, digit
    ("abcdefgh1!", True),        # lower, digit, symbol
    ("abcdefghij1", False),      # two classes
    ("Ab1!", False),             # too short
    ("ABCDEFGHIJ!", False),      # upper, symbol
])
def test_complexity(password, ok):
    validator = ComplexityValidator()
    if ok:
        validator.validate(password)
    else:
        with pytest.raises(ValidationError):
            validator.validate(password)


def test_all_validators_apply_with_chinese_messages(cast):
    with pytest.raises(ValidationError) as info:
        validate_password("abcdefghijk", cast.handler)
    assert any("至少" in m for m in info.value.messages)
    validate_password("Xinfang-Strong-77", cast.handler)
    with pytest.raises(ValidationError):
        validate_password("Password123", cast.handler)  # Django's list of common passwords


def test_the_test_password_itself_is_strong():
    validate_password(PASSWORD)


def test_password_change_page(cast):
    client = Client()
    client.force_login(cast.handler)
    page = client.get("/accounts/password/")
    assert page.status_code == 200
    weak = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "abcdefghijkl",
                                                "new_password2": "abcdefghijkl"})
    assert weak.status_code == 200 and "至少" in weak.content.decode()
    wrong_old = client.post("/accounts/password/", {"old_password": "nope", "new_password1": "Brand-New-Pass-9",
                                                     "new_password2": "Brand-New-Pass-9"})
    assert wrong_old.status_code == 200
    cast.handler.refresh_from_db()
    assert cast.handler.check_password(PASSWORD)
    done = client.post("/accounts/password/", {"old_password": PASSWORD, "new_password1": "Brand-New-Pass-9",
                                                "new_password2": "Brand-New-Pass-9"})
    assert done.status_code == 302
    cast.handler.refresh_from_db()
    assert cast.handler.check_password("Brand-New-Pass-9")
    assert AuditEntry.objects.filter(action="accounts.password_changed", actor=cast.handler).exists()
    assert client.get("/").status_code == 200  # still logged in after the change


def test_password_change_needs_login(db):
    response = Client().get("/accounts/password/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
