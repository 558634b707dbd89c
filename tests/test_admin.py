"""The administration site: every registered model's list opens for an administrator, in Chinese,
and the read-only registers (cases, documents, audit) refuse additions."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_admin_list_opens_and_registers_stay_read_only(cast, make_case, client):
    make_case("handling")
    client.force_login(cast.admin)
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        response = client.get(reverse("admin:%s_%s_changelist" % info))
        assert response.status_code == 200, info
    for info in [("cases", "case"), ("documents", "document"), ("audit", "auditentry")]:
        assert client.get(reverse("admin:%s_%s_add" % info)).status_code == 403, info
    assert "系统管理" in client.get(reverse("admin:index")).content.decode()


def test_staff_without_admin_rights_cannot_open_the_admin(cast, client):
    client.force_login(cast.registrar)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
