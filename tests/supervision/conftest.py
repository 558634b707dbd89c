"""Helpers for the supervision tests: logged-in clients, a checklist, and cases in useful states."""
from __future__ import annotations

import pytest
from django.test import Client

from xinfang.supervision.models import ChecklistItem


class UserClient(Client):
    """A test client logged in as `user` for every request (even after the clock moves)."""

    def __init__(self, user, **defaults):
        super().__init__(**defaults)
        self.user = user

    def request(self, **request):
        self.force_login(self.user)
        return super().request(**request)


@pytest.fixture
def as_user(db):
    return UserClient


@pytest.fixture
def checklist(db):
    """Three checklist points weighing 50, 30 and 20 (a transactional flush may drop the seed)."""
    ChecklistItem.objects.all().delete()
    return [ChecklistItem.objects.create(text=t, weight=w, sort=i)
            for i, (t, w) in enumerate([("按期受理", 50), ("意见书要素齐全", 30), ("档案完整", 20)])]


@pytest.fixture
def handling_case(make_case):
    """A case in handling at 住建局 (registered by the bureau, so the bureau's supervisor sees it)."""
    return make_case("handling")
