"""Idempotency-Key on creates: a retry replays the first answer and makes no second case; the
same key with another body is refused; keys belong to one token."""
from __future__ import annotations

import json

import pytest

from xinfang.api.models import ApiToken, IdempotencyRecord
from xinfang.cases.models import Case

from .conftest import ApiClient, case_payload

pytestmark = pytest.mark.django_db


def test_the_same_key_and_body_replay_without_a_second_case(cast, as_user):
    api = as_user(cast.registrar)
    key = {"Idempotency-Key": "hotline-20260601-0001"}
    first = api.post("/api/v1/cases", case_payload(), headers=key)
    assert first.status_code == 201
    # The same JSON with another key order and spacing is the same request.
    body = json.dumps(dict(reversed(list(case_payload().items()))), indent=2)
    again = api.client.post("/api/v1/cases", body, content_type="application/json", headers=api._headers(key))
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Case.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(cast, as_user):
    api = as_user(cast.registrar)
    key = {"Idempotency-Key": "k-1"}
    assert api.post("/api/v1/cases", case_payload(), headers=key).status_code == 201
    other = api.post("/api/v1/cases", case_payload(title="另一个事项"), headers=key)
    assert other.status_code == 422
    assert other.json()["type"] == "urn:xinfang:problem:idempotency-key-reused"
    assert "Idempotency-Key" in other.json()["detail"]
    assert Case.objects.count() == 1


def test_without_a_key_each_post_creates(cast, as_user):
    api = as_user(cast.registrar)
    api.post("/api/v1/cases", case_payload())
    api.post("/api/v1/cases", case_payload())
    assert Case.objects.count() == 2


def test_a_failed_create_is_not_remembered(cast, as_user):
    api = as_user(cast.registrar)
    key = {"Idempotency-Key": "k-2"}
    assert api.post("/api/v1/cases", case_payload(title=""), headers=key).status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert api.post("/api/v1/cases", case_payload(), headers=key).status_code == 201


def test_keys_are_per_token(cast, as_user, client):
    key = {"Idempotency-Key": "shared"}
    as_user(cast.registrar).post("/api/v1/cases", case_payload(), headers=key)
    _t, raw = ApiToken.issue(cast.registrar, "second system")
    second = ApiClient(client, raw).post("/api/v1/cases", case_payload(), headers=key)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert Case.objects.count() == 2


def test_a_malformed_key_is_refused(cast, as_user):
    r = as_user(cast.registrar).post("/api/v1/cases", case_payload(), headers={"Idempotency-Key": "x" * 201})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Case.objects.exists()
