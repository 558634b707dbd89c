"""API test helpers: a token per cast member and a client that sends it."""
from __future__ import annotations

import json

import pytest

from xinfang.api.models import ApiToken


class ApiClient:
    """Calls the API as a user (through a real bearer token), or anonymously (user=None)."""

    def __init__(self, client, raw: str | None):
        self.client, self.raw = client, raw

    def _headers(self, headers):
        h = {}
        if self.raw:
            h["Authorization"] = f"Bearer {self.raw}"
        h.update(headers or {})
        return h

    def get(self, path, data=None, headers=None):
        return self.client.get(path, data or {}, headers=self._headers(headers))

    def post(self, path, body=None, headers=None):
        return self.client.post(path, json.dumps(body if body is not None else {}), content_type="application/json",
                                headers=self._headers(headers))

    def post_form(self, path, data, headers=None):
        return self.client.post(path, data, headers=self._headers(headers))


@pytest.fixture
def as_user(client, cast):
    """as_user(user) → ApiClient with a fresh token for that user; as_user(None) → anonymous."""
    def make(user):
        if user is None:
            return ApiClient(client, None)
        _token, raw = ApiToken.issue(user, f"test-{user.username}")
        return ApiClient(client, raw)
    return make


def case_payload(**over):
    data = {
        "channel": "letter", "received_at": "2026-06-01T08:00:00+08:00", "title": "小区电梯长期故障无人维修",
        "content": "电梯自今年3月起多次故障,物业拖延不修,请求督促维修。", "category": "claim",
        "petitioners": [{"name": "刘市民", "id_number": "110101199003074477", "phone": "13800138000",
                         "address": "东湖区幸福里小区3栋"}],
    }
    data.update(over)
    return data
