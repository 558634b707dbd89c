"""Helpers for the handling pages: a logged-in client per cast member and throw-away media."""
from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments and rendered documents go to a throw-away directory, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast creates a dozen users; the production hasher would spend most of each test there.
    (Autouse, so it applies before the cast fixture creates them.)"""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class UserClient(Client):
    """A test client that is logged in as `user` for every request, even after the `travel`
    fixture has moved the clock past the session's 8-hour lifetime."""

    def __init__(self, user, **defaults):
        super().__init__(**defaults)
        self.user = user

    def request(self, **request):
        self.force_login(self.user)
        return super().request(**request)


@pytest.fixture
def as_user(db):
    """as_user(user) → a test client logged in as `user` (a fresh client each call)."""
    return UserClient
