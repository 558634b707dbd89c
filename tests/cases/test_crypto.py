"""Personal data encrypted at rest (REGULATION §8): ID numbers, phones and addresses never reach
the database in clear; exact searches still work; keys rotate."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import VALID_ID
from xinfang.cases import crypto
from xinfang.cases.models import Petitioner


def stored(pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, id_number, phone, address FROM cases_petitioner WHERE id = %s", [pk])
        return cursor.fetchone()


@pytest.fixture
def new_key(settings):
    """Switch to a fresh current key, keeping the old one readable."""
    old = crypto.current_key_id()

    def switch(*, keep_old: bool = True):
        previous = settings.DATA_KEY or (settings.DATA_DIR / "data_key").read_text()
        settings.DATA_KEY = crypto.generate_key()
        settings.DATA_KEYS_OLD = [previous] if keep_old else []
        crypto.reset_keyring()
        return old

    yield switch
    crypto.reset_keyring()


def test_id_phone_and_address_are_stored_encrypted_and_read_back(make_case):
    case = make_case()
    p = case.petitioners.get()
    name, id_number, phone, address = stored(p.pk)
    assert name == "刘市民"  # the name stays searchable as typed
    for raw, clear in ((id_number, VALID_ID), (phone, "13800138000"), (address, "东湖区幸福里3栋")):
        assert raw.startswith("enc1:") and clear not in raw
    p = Petitioner.objects.get(pk=p.pk)
    assert (p.id_number, p.phone, p.address) == (VALID_ID, "13800138000", "东湖区幸福里3栋")
    assert list(Petitioner.objects.filter(pk=p.pk).values_list("phone", flat=True)) == ["13800138000"]


def test_exact_lookups_find_the_person_and_partial_ones_are_refused(make_case):
    case = make_case()
    assert Petitioner.objects.filter(id_number=VALID_ID).get().case_id == case.pk
    assert Petitioner.objects.filter(phone__in=["13800138000", "13900000000"]).count() == 1
    assert not Petitioner.objects.filter(phone="13800138001").exists()
    from django.core.exceptions import FieldError

    with pytest.raises(FieldError):
        Petitioner.objects.filter(phone__startswith="1380").count()


def test_a_token_moved_to_another_column_does_not_decrypt(make_case):
    p = make_case().petitioners.get()
    _name, id_number, _phone, _address = stored(p.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_petitioner SET phone = %s WHERE id = %s", [id_number, p.pk])
    with pytest.raises(crypto.UndecryptableValue):
        Petitioner.objects.get(pk=p.pk)


def test_rotation_re_encrypts_under_the_new_key_and_the_old_key_can_go(make_case, new_key):
    p = make_case().petitioners.get()
    old_kid = crypto.stored_key_id(stored(p.pk)[1])
    new_key()
    assert Petitioner.objects.get(pk=p.pk).phone == "13800138000"  # old rows still readable
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    assert "仍需重新加密的信访人记录:1条" in out.getvalue()
    call_command("keys", "rotate", stdout=io.StringIO())
    new_kid = crypto.stored_key_id(stored(p.pk)[1])
    assert new_kid == crypto.current_key_id() != old_kid
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    assert "仍需重新加密的信访人记录:0条" in out.getvalue()
    from django.conf import settings

    settings.DATA_KEYS_OLD = []
    crypto.reset_keyring()
    assert Petitioner.objects.get(pk=p.pk).id_number == VALID_ID


def test_without_the_key_the_data_cannot_be_read(make_case, new_key):
    p = make_case().petitioners.get()
    new_key(keep_old=False)
    with pytest.raises(crypto.UndecryptableValue, match="not configured"):
        Petitioner.objects.get(pk=p.pk)


def test_generate_prints_a_usable_key(settings):
    out = io.StringIO()
    call_command("keys", "generate", stdout=out)
    key = out.getvalue().strip()
    settings.DATA_KEY = key
    crypto.reset_keyring()
    try:
        assert crypto.decrypt(crypto.encrypt("13800138000", "x"), "x") == "13800138000"
    finally:
        crypto.reset_keyring()


def test_a_malformed_key_is_a_clear_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DATA_KEY = "short"
    crypto.reset_keyring()
    try:
        with pytest.raises(ImproperlyConfigured, match="xinfang keys generate"):
            crypto.encrypt("x", "y")
    finally:
        crypto.reset_keyring()
