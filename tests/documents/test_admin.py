"""The document register in the admin (admin.py): listed and searchable, never edited."""
from __future__ import annotations

from django.urls import reverse

from xinfang.documents.models import DocKind


def test_admin_lists_and_searches_documents_read_only(client, cast, make_case):
    case = make_case("handling")
    acceptance = case.documents.get(kind=DocKind.ACCEPTANCE)
    forward = case.documents.get(kind=DocKind.FORWARD)
    client.force_login(cast.admin)
    changelist = reverse("admin:documents_document_changelist")

    page = client.get(changelist).content.decode()
    assert acceptance.number in page and forward.number in page and "文号" in page

    found = client.get(changelist, {"q": acceptance.number}).content.decode()
    assert acceptance.number in found and forward.number not in found

    detail = client.get(reverse("admin:documents_document_change", args=[acceptance.pk]))
    assert detail.status_code == 200
    assert reverse("document_download", args=[case.pk, acceptance.pk, "pdf"]) in detail.content.decode()
    assert client.get(reverse("admin:documents_document_add")).status_code == 403
    assert client.post(reverse("admin:documents_document_delete", args=[acceptance.pk]), {"post": "yes"}).status_code == 403
    assert case.documents.filter(pk=acceptance.pk).exists()


def test_staff_without_admin_access_is_sent_to_the_admin_login(client, cast):
    client.force_login(cast.handler)
    response = client.get(reverse("admin:documents_document_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
