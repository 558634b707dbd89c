"""网上投: the online petition form (Art.17, 19), its one-time token, rate limits and attachments."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.access import Citizen, WorkflowError, cases_visible_to
from xinfang.cases.models import Attachment, Case, Channel, Event, RouteKind, State
from xinfang.cases.signals import cases_created
from xinfang.portal.models import Submission

from .conftest import OTHER_ID, code_from, submit_data

pytestmark = pytest.mark.django_db


def test_the_form_is_chinese_labelled_and_has_no_inline_script_or_style(client, cast):
    response = client.get(reverse("portal:submit"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert 'name="token"' in html and "privacy" in html
    for label in ("姓名", "身份证号码", "手机号码", "通信地址", "信访类别", "个人信息处理告知"):
        assert label in html
    assert '<label for="id_name">' in html and '<label for="id_id_number">' in html
    assert "<script>" not in html and "style=" not in html and "onclick" not in html
    assert str(cast.bureau.name) in html and str(cast.housing.name) not in html.split('name="bureau"')[1].split("</select>")[0]


def test_a_valid_petition_is_registered_at_the_chosen_bureau_with_a_query_code_art17(client, cast, caplog):
    seen = []

    def listen(sender, case_ids, source, **kwargs):
        seen.append((case_ids, source))

    cases_created.connect(listen)
    try:
        with caplog.at_level(logging.WARNING, logger="xinfang.portal.notify"):
            response = client.post(reverse("portal:submit"), submit_data(cast), follow=True)
    finally:
        cases_created.disconnect(listen)
    assert response.status_code == 200
    code = code_from(response)
    case = Case.objects.get()
    assert case.number in response.content.decode()
    assert case.channel == Channel.ONLINE and case.state == State.REGISTERED and case.bureau == cast.bureau
    assert case.registered_by is None and case.current_organ == cast.bureau
    assert case.due_on is not None  # the bureau's 15-day routing limit runs (Art.22)
    pet = case.petitioners.get()
    assert (pet.name, pet.phone, pet.address) == ("刘市民", "13800138000", "东湖区幸福里3栋")
    assert seen == [([case.pk], "portal")]
    # The code is stored only as a hash, and went out through the notifier (the log by default).
    sub = Submission.objects.get(case=case)
    assert code not in sub.code_hash and len(code) == 8
    assert code in caplog.text and case.number in caplog.text and "13800138000" not in caplog.text
    # The event and the audit entry name the citizen, not a member of staff.
    event = Event.objects.get(case=case, action="register")
    assert event.actor is None and event.data.get("by_petitioner") is True
    entry = AuditEntry.objects.get(action="case.register")
    assert entry.actor is None and entry.actor_name.startswith("citizen:")
    # The code is shown once: the success page does not show it again.
    again = client.get(response.redirect_chain[-1][0])
    assert code not in again.content.decode() and case.number in again.content.decode()


def test_the_success_page_of_a_stranger_shows_neither_number_nor_code(client, cast, submit):
    case, code = submit()
    token = Submission.objects.get(case=case).token
    from django.test import Client

    html = Client().get(reverse("portal:submitted", args=[token])).content.decode()
    assert case.number not in html and code not in html


@pytest.mark.parametrize("field, value, message", [
    ("name", "  ", "请填写姓名"),
    ("id_number", "110101199003074478", "校验位不正确"),
    ("id_number", "12345", "18位"),
    ("phone", "12345", "联系电话格式不正确"),
    ("address", "", "请填写通信地址"),
    ("bureau", "999999", "所选信访部门不存在"),
    ("category", "", "请选择信访类别"),
    ("title", "", "请填写标题"),
    ("content", "", "请填写信访内容"),
    ("privacy", None, "请阅读并同意个人信息处理告知"),
])
def test_each_invalid_field_is_named_and_everything_typed_is_kept(client, cast, field, value, message):
    data = submit_data(cast, **{field: value}, email="liu@example.cn")
    response = client.post(reverse("portal:submit"), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert not Case.objects.exists()
    for kept in ("name", "id_number", "phone", "address", "title", "content", "email"):
        if kept != field and data.get(kept, "").strip():
            assert data[kept] in html, kept
    assert data["token"] in html  # the retry after fixing the error keeps the same one-time token


def test_the_bureau_must_be_a_petition_bureau(client, cast):
    response = client.post(reverse("portal:submit"), submit_data(cast, bureau=str(cast.housing.pk)))
    assert response.status_code == 400 and not Case.objects.exists()
    with pytest.raises(WorkflowError):
        workflow.submit_online(Citizen(), cast.housing, {"category": "claim", "title": "t", "content": "c"},
                               [workflow.PetitionerData(name="刘市民")])


def test_a_double_click_or_retry_makes_one_case(client, cast):
    data = submit_data(cast)
    first = client.post(reverse("portal:submit"), data)
    second = client.post(reverse("portal:submit"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1 and Submission.objects.count() == 1


def test_submissions_are_limited_per_id_number(client, cast, settings):
    settings.PORTAL_SUBMITS_PER_ID_DAY = 1
    assert client.post(reverse("portal:submit"), submit_data(cast)).status_code == 302
    response = client.post(reverse("portal:submit"), submit_data(cast, title="另一件事"))
    assert response.status_code == 429
    assert "同一身份证号码今天提交的信访事项已达上限" in response.content.decode()
    assert "另一件事" in response.content.decode()  # the input is kept
    assert Case.objects.count() == 1
    # Another person from the same address may still submit.
    assert client.post(reverse("portal:submit"), submit_data(cast, id_number=OTHER_ID)).status_code == 302


def test_submissions_are_limited_per_address(client, cast, settings, travel):
    settings.PORTAL_SUBMITS_PER_IP_DAY = 2
    for id_number in ("110101199003074477", OTHER_ID):
        assert client.post(reverse("portal:submit"), submit_data(cast, id_number=id_number)).status_code == 302
    response = client.post(reverse("portal:submit"), submit_data(cast, id_number="110101198001010010"))
    assert response.status_code == 429 and "今天从您的网络提交的信访事项已达上限" in response.content.decode()
    assert Case.objects.count() == 2
    # A different address is not affected; the next day the count starts again.
    assert client.post(reverse("portal:submit"), submit_data(cast, id_number="110101198001010010"),
                       REMOTE_ADDR="10.1.2.3").status_code == 302
    travel(Case.objects.first().received_on + dt.timedelta(days=1))
    assert client.post(reverse("portal:submit"), submit_data(cast, id_number="440102198506151233")).status_code == 302


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_attachments_are_checked_and_stored_under_random_names(client, cast, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    ok = SimpleUploadedFile("../../现场照片.png", PNG, content_type="image/png")
    response = client.post(reverse("portal:submit"), {**submit_data(cast), "attachments": [ok]})
    assert response.status_code == 302
    att = Attachment.objects.get()
    assert att.name == "现场照片.png" and att.uploaded_by is None
    assert "现场照片" not in att.file.name and ".." not in att.file.name and att.file.name.endswith(".png")
    assert (settings.MEDIA_ROOT / att.file.name).read_bytes() == PNG

    fake = SimpleUploadedFile("报告.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(reverse("portal:submit"), {**submit_data(cast, title="第二件"), "attachments": [fake]})
    html = response.content.decode()
    assert response.status_code == 400 and "内容与其扩展名不符" in html
    assert "第二件" in html and "附件需要重新选择" in html
    assert Case.objects.count() == 1


def test_a_report_naming_the_accused_organ_never_reaches_it_art30(client, cast, submit):
    case, _code = submit(category="report", accused_organ=str(cast.urban.pk), title="举报城管执法人员收受好处")
    assert case.accused_organ == cast.urban
    assert not cases_visible_to(cast.accused).filter(pk=case.pk).exists()
    with pytest.raises(WorkflowError, match="第30条"):
        workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.urban)
    workflow.route_case(cast.registrar, case, kind=RouteKind.DISCIPLINE, organ=cast.discipline)
    assert not cases_visible_to(cast.accused).filter(pk=case.pk).exists()


def test_a_law_related_petition_goes_to_the_legal_organs_art22_art28(cast, submit):
    case, _code = submit(law_related="on")
    assert case.law_related
    with pytest.raises(WorkflowError, match="诉访分离"):
        workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing)


def test_a_logged_in_citizen_finds_the_petition_under_my_cases(client, cast, submit):
    client.login(username="citizen", password=PASSWORD)
    case, _code = submit()
    assert Submission.objects.get(case=case).account == cast.citizen
    html = client.get(reverse("portal:mine")).content.decode()
    assert case.number in html
    assert client.get(reverse("portal:case", args=[case.pk])).status_code == 200
    client.logout()
    assert client.get(reverse("portal:mine")).status_code == 302


def test_a_missing_or_mangled_token_gets_one_of_its_own(client, cast):
    for token in (None, "<script>"):
        assert client.post(reverse("portal:submit"), submit_data(cast, token=token)).status_code == 302
    tokens = set(Submission.objects.values_list("token", flat=True))
    assert len(tokens) == 2 and "<script>" not in tokens
