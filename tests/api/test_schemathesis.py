"""Schemathesis fuzzes every operation of the OpenAPI document against the WSGI app, inside the
suite, authenticated as a bureau registrar: no input may cause a server error, and every response
must match the documented status codes, content types and schemas."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from xinfang.api.models import ApiToken

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app(db):
    """The real WSGI application. Like Django's test client, keep the test's database connection
    open across requests (request_finished would close it, losing the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    # Explicit examples and random fuzzing only: the coverage phase enumerates every boundary of
    # every parameter (hundreds of calls per operation), too slow for the everyday suite.
    loaded.config.phases.coverage.enabled = False
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def bearer(cast, make_case):
    # Something to find: cases in several states, one of them with documents.
    replied = make_case("replied")
    registered = make_case("registered")
    _token, raw = ApiToken.issue(cast.registrar, "schemathesis")
    targets = {"case_id": [replied.pk, registered.pk], "doc_id": list(replied.documents.values_list("pk", flat=True))}
    return {"Authorization": f"Bearer {raw}"}, targets


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_survives_fuzzing(case, bearer):
    headers, targets = bearer
    # Random ids almost never exist: point every other example at a real case and document, so
    # the fuzzed bodies reach the workflow's services and not only the 404 path.
    params = case.path_parameters or {}
    seed = len(repr(case.body)) + len(repr(case.query))
    if seed % 2:
        for name, ids in targets.items():
            if name in params and ids:
                params[name] = ids[seed % len(ids)]
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_the_fuzzing_check_fails_on_a_server_error(api_schema, bearer, monkeypatch):
    """The harness above can fail: a view that crashes is reported, not swallowed."""
    from xinfang.api import v1

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(v1, "case_summary", crash)
    case = api_schema["/api/v1/cases"]["GET"].Case(query={})
    with pytest.raises(BaseException) as failure:  # a group of check failures
        case.call_and_validate(headers=bearer[0], checks=CHECKS)
    failures = getattr(failure.value, "exceptions", [failure.value])
    assert any("Server error" in str(f) for f in failures), failures
