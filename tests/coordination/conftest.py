"""Helpers for the coordination tests: logged-in clients and bureau staff."""
from __future__ import annotations

import pytest
from django.test import Client

from xinfang.orgs.models import Role, User

from ..conftest import PASSWORD


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
def bureau_head(cast):
    return User.objects.create_user("bureau_head", password=PASSWORD, organ=cast.bureau, roles=[Role.HEAD, Role.REGISTRAR],
                                    full_name="何主任")


@pytest.fixture
def no_links(db):
    """Drop the repeat links duplicate detection drew between the near-identical test cases, so a
    test states exactly which cases repeat."""
    from xinfang.dedup.models import Link

    def clear():
        Link.objects.all().delete()
    return clear
