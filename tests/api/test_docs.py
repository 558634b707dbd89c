"""The OpenAPI document and the interactive docs work offline: every asset comes from our own
static files, and the page has no inline script (ready for a strict Content-Security-Policy)."""
from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    paths = schema["paths"]
    assert "/api/v1/cases/{case_id}/actions/request_review" in paths
    errors = paths["/api/v1/cases"]["post"]["responses"]["422"]["content"]
    assert list(errors) == ["application/problem+json"]


def test_openapi_document_has_no_duplicate_keys(client):
    """Swagger UI parses the document with a YAML parser, which refuses a key given twice."""
    def no_duplicates(pairs):
        keys = [k for k, _v in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=no_duplicates)


def test_swagger_ui_is_served_from_the_package_without_inline_script(client):
    page = client.get("/api/v1/docs").content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources and all(src.startswith("/static/") for src in sources), sources
    assert "cdn" not in page.lower() and "http://" not in page and "https://" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None, "inline <script> found"
    assert " style=" not in page and "onclick" not in page
    for src in sources:
        assert finders.find(src.removeprefix("/static/")), src
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/api/swagger-init.js").status_code == 200
