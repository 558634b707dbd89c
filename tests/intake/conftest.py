"""Helpers for the intake pages: a logged-in client per cast member, throw-away media, and a valid
registration POST body."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import VALID_ID


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments go to a throw-away directory, never into var/. The cast's passwords are hashed
    with a fast hasher: the production PBKDF2 cost would dominate every test's set-up."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings.MEDIA_ROOT


@pytest.fixture
def as_user(db):
    """as_user(user) → a test client logged in as `user` (a fresh client each call)."""
    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client
    return login


def petitioner_rows(*rows: dict) -> dict:
    """The POST fields of the petitioner formset (prefix "p") for `rows`."""
    data = {"p-TOTAL_FORMS": str(len(rows)), "p-INITIAL_FORMS": "0", "p-MIN_NUM_FORMS": "1", "p-MAX_NUM_FORMS": "200"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key == "is_representative":
                if value:
                    data[f"p-{i}-is_representative"] = "on"
            else:
                data[f"p-{i}-{key}"] = value
    return data


PETITIONER = {"name": "刘市民", "id_number": VALID_ID, "phone": "13800138000", "address": "东湖区幸福里3栋"}


def registration_post(*, petitioners=(PETITIONER,), **over) -> dict:
    """A valid registration form body (a letter received an hour before the frozen now)."""
    data = {
        "channel": "letter", "received_at": "2026-06-01T08:00", "category": "claim",
        "title": "小区电梯长期故障无人维修",
        "content": "本人住东湖区幸福里小区3栋,电梯自今年3月起多次故障,物业拖延不修,请求督促维修。",
        "head_count": "1", "submit": "register",
    }
    data.update(petitioner_rows(*petitioners))
    for key, value in over.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
