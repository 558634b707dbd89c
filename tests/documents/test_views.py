"""Downloading documents (views.py): only through the access layer, with an audit entry."""
from __future__ import annotations

import io
from urllib.parse import quote

import docx
import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.documents.models import DocKind
from xinfang.documents.render import CONTENT_TYPES


def url(doc, fmt, case=None):
    return reverse("document_download", args=[(case or doc.case).pk, doc.pk, fmt])


@pytest.fixture
def accepted(make_case):
    """A case at 住建局 with its 转送单 (from the bureau) and 受理告知书 (from 住建局)."""
    return make_case("handling")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_handling_organ_downloads_with_content_type_and_filename(client, cast, accepted, fmt):
    doc = accepted.documents.get(kind=DocKind.ACCEPTANCE)
    client.force_login(cast.handler)
    response = client.get(url(doc, fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote(f'{doc.number}受理告知书.{fmt}')}" in disposition
    data = body(response)
    if fmt == "pdf":
        assert data.startswith(b"%PDF") and b"/FontFile2" in data
    else:
        assert doc.number in "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def test_each_download_is_audited(client, cast, accepted):
    doc = accepted.documents.get(kind=DocKind.FORWARD)
    client.force_login(cast.registrar)
    before = AuditEntry.objects.filter(action="document.download").count()
    assert client.get(url(doc, "pdf")).status_code == 200
    assert client.get(url(doc, "docx")).status_code == 200
    entries = list(AuditEntry.objects.filter(action="document.download").order_by("seq"))
    assert len(entries) == before + 2
    last = entries[-1]
    assert (last.actor, last.object_type, last.object_id) == (cast.registrar, "documents.document", str(doc.pk))
    assert last.data == {"case": accepted.number, "number": doc.number, "format": "docx"}


def test_user_of_another_organ_gets_404(client, cast, accepted):
    doc = accepted.documents.get(kind=DocKind.ACCEPTANCE)
    client.force_login(cast.other)
    before = AuditEntry.objects.filter(action="document.download").count()
    assert client.get(url(doc, "pdf")).status_code == 404
    assert client.get(url(doc, "docx")).status_code == 404
    assert AuditEntry.objects.filter(action="document.download").count() == before


def test_anonymous_is_sent_to_log_in(client, accepted):
    doc = accepted.documents.get(kind=DocKind.ACCEPTANCE)
    response = client.get(url(doc, "pdf"))
    assert response.status_code == 302
    assert response.url.startswith(resolve_url(settings.LOGIN_URL) + "?next=")


def test_document_of_another_case_through_this_cases_url_is_404(client, cast, accepted, make_case):
    elsewhere = make_case("handling").documents.get(kind=DocKind.ACCEPTANCE)
    client.force_login(cast.handler)  # may see both cases
    assert client.get(url(elsewhere, "pdf")).status_code == 200
    assert client.get(url(elsewhere, "pdf", case=accepted)).status_code == 404


def test_only_docx_and_pdf_are_served(client, cast, accepted):
    doc = accepted.documents.get(kind=DocKind.ACCEPTANCE)
    client.force_login(cast.handler)
    assert client.get(f"/cases/{accepted.pk}/documents/{doc.pk}.html").status_code == 404
    assert client.post(url(doc, "pdf")).status_code == 405


def test_missing_font_is_reported_not_crashed(client, cast, accepted, settings):
    settings.PDF_FONT = "/nonexistent/font.ttf"
    doc = accepted.documents.get(kind=DocKind.ACCEPTANCE)
    client.force_login(cast.handler)
    response = client.get(url(doc, "pdf"))
    assert response.status_code == 503
    assert "XINFANG_PDF_FONT" in response.content.decode()
