"""The pluggable notifier: the query code goes to the configured class; a failing one never undoes
the submission."""
from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.cases.models import Case

from .conftest import code_from, submit_data

pytestmark = pytest.mark.django_db

SENT: list[dict] = []


class Recorder:
    def send_query_code(self, **kwargs):
        SENT.append(kwargs)


class Broken:
    def send_query_code(self, **kwargs):
        raise ConnectionError("gateway down")


def test_the_configured_notifier_receives_the_code(client, cast, settings):
    settings.XINFANG_NOTIFIER = "tests.portal.test_notify.Recorder"
    SENT.clear()
    response = client.post(reverse("portal:submit"), submit_data(cast, email="liu@example.cn"), follow=True)
    case = Case.objects.get()
    assert SENT == [{"case_number": case.number, "code": code_from(response), "phone": "13800138000",
                     "email": "liu@example.cn"}]


def test_a_failing_notifier_does_not_lose_the_submission(client, cast, settings, caplog):
    settings.XINFANG_NOTIFIER = "tests.portal.test_notify.Broken"
    response = client.post(reverse("portal:submit"), submit_data(cast), follow=True)
    assert response.status_code == 200 and code_from(response)
    assert Case.objects.count() == 1 and "gateway down" in caplog.text


def test_a_nonexistent_notifier_is_reported_in_the_log(client, cast, settings, caplog):
    settings.XINFANG_NOTIFIER = "nowhere.Notifier"
    response = client.post(reverse("portal:submit"), submit_data(cast), follow=True)
    assert response.status_code == 200 and Case.objects.count() == 1
    assert "nowhere.Notifier" in caplog.text
