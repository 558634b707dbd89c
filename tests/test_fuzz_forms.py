"""Bad input, fuzzed (trust issue, item 7): the staff forms and the citizen portal take oversize,
malformed, injection and script payloads in every field. Nothing gives a server error, a refused
form stores nothing, and no payload comes back as live markup. (The API is fuzzed by schemathesis
in tests/api, ledger import in tests/ledger.)"""
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.intake.conftest import PETITIONER, petitioner_rows
from xinfang.cases.models import Case, Petitioner

SCRIPT = "<script>alert(1)</script>"
PAYLOADS = [
    SCRIPT, "\"><img src=x onerror=alert(1)>", "'; DROP TABLE cases_case; --", "' OR '1'='1", "{{ 7*7 }}",
    "{% debug %}", "%(name)s", "\x00", "\u202e\u0000\ud7ff", "=cmd|' /C calc'!A0", "../../etc/passwd", "😀" * 50,
    "长" * 30000, "1" * 300, "-1", "2026-02-30", "9999-99-99T99:99", "NaN", "", " ", "\r\n\t",
]
text = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=300))
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def no_live_payload(html: str) -> None:
    assert SCRIPT not in html and "<img src=x onerror" not in html


def registration(**over) -> dict:
    data = {"channel": "letter", "received_at": "2026-06-01T08:00", "category": "claim", "title": "电梯故障",
            "content": "电梯多次故障,请求督促维修。", "head_count": "1", "submit": "register"}
    data.update(petitioner_rows(PETITIONER))
    data.update(over)
    return data


REGISTRATION_FIELDS = ["channel", "received_at", "category", "title", "content", "head_count", "topic", "region",
                       "accused_organ", "related_number", "p-0-name", "p-0-id_number", "p-0-phone", "p-0-address",
                       "p-TOTAL_FORMS", "route_kind", "route_organ", "assigned_due", "submit"]


@FUZZ
@given(field=st.sampled_from(REGISTRATION_FIELDS), value=text)
def test_registration_form_survives_any_field_value(cast, field, value):
    client = Client()
    client.force_login(cast.registrar)
    before = (Case.objects.count(), Petitioner.objects.count())
    response = client.post(reverse("case_register"), registration(**{field: value}))
    assert response.status_code < 500
    if response.status_code != 302:
        assert (Case.objects.count(), Petitioner.objects.count()) == before
        no_live_payload(response.content.decode())


@FUZZ
@given(field=st.sampled_from(["number", "name", "phone", "id_number", "q", "state", "category", "channel", "organ",
                              "received_from", "received_to", "grade", "page"]), value=text)
def test_case_list_filters_survive_any_value(cast, field, value):
    client = Client()
    client.force_login(cast.registrar)
    response = client.get(reverse("case_list"), {field: value})
    assert response.status_code in (200, 400)
    no_live_payload(response.content.decode())


@FUZZ
@given(field=st.sampled_from(["outcome", "opinion", "facts", "basis", "delivered_on"]), value=text)
def test_reply_form_survives_any_value(cast, make_case, field, value):
    case = make_case("handling")
    client = Client()
    client.force_login(cast.handler)
    data = {"outcome": "support", "opinion": "已处理。", "facts": "属实。", "basis": "有关规定", field: value}
    response = client.post(reverse("case_action", args=[case.pk, "reply"]), data)
    assert response.status_code < 500
    case.refresh_from_db()
    if response.status_code != 302:
        assert case.state == "handling" and not case.documents.filter(kind="opinion").exists()
        no_live_payload(response.content.decode())


PORTAL_FIELDS = ["name", "id_number", "phone", "email", "address", "bureau", "category", "accused_organ", "title",
                 "content", "privacy", "token"]


@FUZZ
@given(field=st.sampled_from(PORTAL_FIELDS), value=text)
def test_portal_submission_survives_any_field_value(cast, settings, field, value):
    settings.PORTAL_SUBMITS_PER_IP_DAY = 100_000
    settings.PORTAL_SUBMITS_PER_ID_DAY = 100_000
    data = {"token": "", "name": "刘市民", "id_number": PETITIONER["id_number"], "phone": "13800138000",
            "address": "东湖区幸福里3栋", "bureau": str(cast.bureau.pk), "category": "claim", "title": "电梯故障",
            "content": "电梯多次故障,请求督促维修。", "privacy": "on", field: value}
    before = Case.objects.count()
    response = Client().post(reverse("portal:submit"), data)
    assert response.status_code < 500
    if response.status_code not in (302, 303):
        assert Case.objects.count() == before
        no_live_payload(response.content.decode())


@pytest.mark.parametrize("payload", [SCRIPT, "\"><img src=x onerror=alert(1)>"])
def test_a_stored_script_payload_is_shown_as_text(cast, make_case, payload):
    """A petition may legitimately quote markup: it is stored as typed and always shown escaped."""
    case = make_case(title=payload, content=f"内容{payload}")
    client = Client()
    client.force_login(cast.registrar)
    for url in (reverse("case_detail", args=[case.pk]), reverse("case_list"), reverse("home")):
        html = client.get(url).content.decode()
        assert payload not in html
    assert Case.objects.get(pk=case.pk).title == payload
