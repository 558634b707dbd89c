"""The intake pages (xinfang.intake.views): login, the workbench home, registration (登记 and
登记并转送) and the case list. Each view: the right user succeeds, a user of another organ sees
nothing of a foreign case, an anonymous user is sent to log in."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.models import Attachment, Case, CaseCounter, Category, Event, Petitioner, RouteKind, State
from xinfang.documents.models import Document
from xinfang.intake import views
from tests.conftest import PASSWORD, VALID_ID
from tests.intake.conftest import PETITIONER, registration_post

pytestmark = pytest.mark.django_db

ID_2 = "110101198505121232"
ID_3 = "440102197001010027"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def nothing_saved():
    assert Case.objects.count() == 0
    assert Petitioner.objects.count() == 0
    assert Event.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert Document.objects.count() == 0
    assert not CaseCounter.objects.filter(last__gt=0).exists()


def stored_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


# --------------------------------------------------------------------------- login and layout


@pytest.mark.parametrize("name", ["home", "case_list", "case_register"])
def test_anonymous_users_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_login_page_is_chinese_and_logs_in(client, cast):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "信访工作平台" in page.content.decode() and "登录" in page.content.decode()
    response = client.post(reverse("login"), {"username": "registrar", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_login_with_a_wrong_password_shows_a_chinese_error(client, cast):
    response = client.post(reverse("login"), {"username": "registrar", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码不正确,请重新输入(密码区分大小写)。" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_page_stays_chinese_for_an_english_browser(client, cast):
    page = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"}).content.decode()
    assert "用户名" in page and "密码" in page and "Username" not in page
    response = client.post(reverse("login"), {"username": "", "password": ""}, headers={"accept-language": "en"})
    assert "请输入用户名。" in response.content.decode() and "请输入密码。" in response.content.decode()


def test_logout_is_a_post_and_returns_to_login(as_user, cast):
    client = as_user(cast.registrar)
    assert client.get(reverse("logout")).status_code == 405  # GET must not log out
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_layout_shows_user_organ_roles_and_the_register_link_only_to_registrars(as_user, cast):
    page = as_user(cast.registrar).get(reverse("home")).content.decode()
    assert "李登记" in page and "江州市信访局" in page and "登记员" in page
    assert f'href="{reverse("case_register")}"' in page
    assert 'action="/accounts/logout/"' in page
    assert reverse("admin:index") not in page
    page = as_user(cast.handler).get(reverse("home")).content.decode()
    assert f'href="{reverse("case_register")}"' not in page
    page = as_user(cast.admin).get(reverse("home")).content.decode()
    assert reverse("admin:index") in page


# --------------------------------------------------------------------------- home


def test_home_counts_the_cases_at_the_users_organ_per_inbox_tab(as_user, cast, make_case):
    registered = make_case("registered")
    make_case("registered")
    pending = make_case("pending")
    handling = make_case("handling")
    make_case("review")  # at the city government, not the bureau or housing

    response = as_user(cast.registrar).get(reverse("home"))
    assert response.status_code == 200
    counts = {t["code"]: t["count"] for t in response.context["tiles"]}
    assert counts == {"registered": 2, "pending": 0, "returned": 0, "handling": 0, "near": 0, "overdue": 0, "review": 0}
    assert f'{reverse("inbox")}?tab=registered' in response.content.decode()
    assert registered in response.context["urgent"]

    response = as_user(cast.handler).get(reverse("home"))
    counts = {t["code"]: t["count"] for t in response.context["tiles"]}
    assert counts["pending"] == 1 and counts["handling"] == 1 and counts["registered"] == 0
    assert set(response.context["urgent"]) == {pending, handling}
    assert registered.number not in response.content.decode()

    response = as_user(cast.reviewer).get(reverse("home"))
    assert {t["code"]: t["count"] for t in response.context["tiles"]}["review"] == 1


def test_home_shows_no_foreign_cases_to_another_organ(as_user, cast, make_case):
    case = make_case("handling")
    response = as_user(cast.other).get(reverse("home"))
    assert response.status_code == 200
    assert all(t["count"] == 0 for t in response.context["tiles"])
    assert response.context["urgent"] == []
    assert case.number not in response.content.decode()


def test_home_lists_the_most_urgent_open_cases_first_with_grades(as_user, cast, make_case, travel):
    first = make_case("registered")  # received 2026-06-01: route by 06-16 (Art.22)
    travel(dt.date(2026, 6, 5))
    second = make_case("registered", received_at=dt.datetime(2026, 6, 5, 9, 0, tzinfo=SHANGHAI))  # by 06-22
    assert (first.due_on, second.due_on) == (dt.date(2026, 6, 16), dt.date(2026, 6, 22))
    travel(dt.date(2026, 6, 17))
    response = as_user(cast.registrar).get(reverse("home"))
    assert response.context["urgent"] == [first, second]
    counts = {t["code"]: t["count"] for t in response.context["tiles"]}
    assert counts["overdue"] == 1
    page = response.content.decode()
    assert "badge-overdue" in page


def test_home_caps_the_urgent_list_at_ten(as_user, cast, make_case):
    for _ in range(11):
        make_case("registered")
    assert len(as_user(cast.registrar).get(reverse("home")).context["urgent"]) == views.URGENT_COUNT


def test_home_gives_overseeing_roles_the_subtree_deadline_counts(as_user, cast, make_case, travel):
    make_case("pending")
    travel(dt.date(2026, 7, 1))
    response = as_user(cast.supervisor).get(reverse("home"))
    assert {t["code"]: t["count"] for t in response.context["oversight"]} == {"near": 0, "overdue": 1}
    assert f'{reverse("case_list")}?grade=overdue' in response.content.decode()
    assert as_user(cast.handler).get(reverse("home")).context["oversight"] == []


def test_home_for_a_user_without_an_organ_is_empty(as_user, cast, make_case):
    make_case("registered")
    response = as_user(cast.citizen).get(reverse("home"))
    assert response.status_code == 200
    assert response.context["tiles"] == [] and response.context["urgent"] == []
    assert "尚未分配所在机关" in response.content.decode()


def test_home_counts_take_a_fixed_number_of_queries(as_user, cast, make_case, django_assert_max_num_queries):
    for _ in range(3):
        make_case("registered")
    client = as_user(cast.registrar)
    with django_assert_max_num_queries(8):
        client.get(reverse("home"))


# --------------------------------------------------------------------------- registration: access


def test_registration_page_is_404_for_users_who_may_not_register(as_user, cast):
    for user in (cast.handler, cast.supervisor, cast.citizen):
        client = as_user(user)
        assert client.get(reverse("case_register")).status_code == 404
        assert client.post(reverse("case_register"), registration_post()).status_code == 404
    nothing_saved()


def test_registration_page_for_a_registrar_defaults_the_received_time_to_now(as_user, cast):
    response = as_user(cast.registrar).get(reverse("case_register"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="2026-06-01T09:00"' in page
    assert "登记并转送" in page  # a petition bureau may route on the same screen
    assert 'name="p-TOTAL_FORMS"' in page and 'id="p-empty"' in page


# --------------------------------------------------------------------------- registration: success


def test_registrar_registers_a_letter_and_is_sent_to_the_case(as_user, cast):
    client = as_user(cast.registrar)
    response = client.post(reverse("case_register"), registration_post(
        skip_level="", major_urgent="on", region=str(cast.district.pk),
        petitioners=[PETITIONER, {"name": "陈邻居", "id_number": ID_2.lower(), "phone": "020-12345678"}],
        head_count="2"))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert messages_of(response) == [f"已登记信访事项 {case.number}。"]
    assert case.number == "JZXF-2026-000001"
    assert case.state == State.REGISTERED and case.current_organ == cast.bureau
    assert case.major_urgent and not case.skip_level and case.region == cast.district
    assert case.received_at == dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.timezone.utc)  # 08:00 Shanghai
    assert [(p.name, p.id_number) for p in case.petitioners.all()] == [("刘市民", VALID_ID), ("陈邻居", ID_2)]
    assert case.head_count == 2


def test_registration_stores_several_allowed_attachments(as_user, cast, media_root):
    files = [SimpleUploadedFile("来信.pdf", PDF, "application/pdf"), SimpleUploadedFile("照片.PNG", PNG, "image/png"),
             SimpleUploadedFile("笔录.txt", "信访人陈述如下:电梯故障。".encode("gb18030"), "text/plain")]
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(attachments=files))
    assert response.status_code == 302
    case = Case.objects.get()
    assert sorted(a.name for a in case.attachments.all()) == ["来信.pdf", "照片.PNG", "笔录.txt"]
    assert len(stored_files(media_root)) == 3


def test_group_visit_with_five_representatives_is_accepted(as_user, cast):
    rows = [{"name": f"代表{i}", "is_representative": True} for i in range(5)] + [{"name": "群众甲"}]
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(
        channel="visit", group_visit="on", head_count="30", petitioners=rows))
    assert response.status_code == 302
    assert Case.objects.get().petitioners.filter(is_representative=True).count() == 5


def test_blank_extra_petitioner_rows_are_ignored_and_deleted_rows_dropped(as_user, cast):
    rows = [PETITIONER, {"name": "删掉的人", "DELETE": "on"}, {"name": "", "id_number": "", "phone": "", "address": ""}]
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(petitioners=rows))
    assert response.status_code == 302
    assert list(Case.objects.get().petitioners.values_list("name", flat=True)) == ["刘市民"]


def test_a_registrar_outside_a_bureau_registers_for_acceptance_without_routing(as_user, cast):
    client = as_user(cast.other)  # 人社局 registrar: a direct petition to a functional organ
    assert "登记并转送" not in client.get(reverse("case_register")).content.decode()
    response = client.post(reverse("case_register"), registration_post())
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.state == State.PENDING and case.current_organ == cast.labour  # Art.23 ¶2


def test_related_case_and_same_facts_are_recorded(as_user, cast, make_case):
    earlier = make_case("registered")
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(
        related_number=earlier.number.lower(), same_facts="on"))
    assert response.status_code == 302
    case = Case.objects.exclude(pk=earlier.pk).get()
    assert case.related_case == earlier and case.same_facts


def test_a_report_records_the_accused_organ(as_user, cast):
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(
        category="report", accused_organ=str(cast.urban.pk)))
    assert response.status_code == 302
    assert Case.objects.get().accused_organ == cast.urban


# --------------------------------------------------------------------------- registration: bad input


def post_bad(client, media_root=None, **over):
    response = client.post(reverse("case_register"), registration_post(**over))
    assert response.status_code == 400, response.content.decode()[:500]
    nothing_saved()
    if media_root is not None:
        assert stored_files(media_root) == []
    return response, response.content.decode()


def test_invalid_id_number_is_refused_next_to_the_field(as_user, cast):
    response, page = post_bad(as_user(cast.registrar), petitioners=[{**PETITIONER, "id_number": VALID_ID[:-1] + "0"}])
    assert "身份证号码校验位不正确,请核对。" in page
    assert response.context["formset"].forms[0].errors["id_number"]
    _response, page = post_bad(as_user(cast.registrar), petitioners=[{**PETITIONER, "id_number": "1101011990"}])
    assert "身份证号码应为18位" in page


def test_invalid_phone_is_refused(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), petitioners=[{**PETITIONER, "phone": "12345"}])
    assert "联系电话格式不正确" in page


@pytest.mark.parametrize(("field", "message"), [
    ("channel", "请选择信访形式。"),
    ("category", "请选择信访类别。"),
    ("title", "请填写标题。"),
    ("content", "请填写信访内容。"),
    ("received_at", "请填写收到时间。"),
    ("head_count", "请填写人数。"),
])
def test_missing_required_fields_are_refused_in_chinese(as_user, cast, field, message):
    response, page = post_bad(as_user(cast.registrar), **{field: ""})
    assert message in page
    assert response.context["form"].errors[field] == [message]


def test_a_blank_title_of_spaces_is_refused(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), title="   ")
    assert "请填写标题。" in page


def test_a_petitioner_is_required(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), petitioners=[{"name": "", "id_number": "", "phone": "", "address": ""}])
    assert "请填写信访人姓名。" in page


def test_a_missing_petitioner_table_is_refused(as_user, cast):
    data = {k: v for k, v in registration_post().items() if not k.startswith("p-")}
    response = as_user(cast.registrar).post(reverse("case_register"), data, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert "至少登记一名信访人(条例第19条)。" in response.content.decode()
    nothing_saved()


def test_an_empty_petitioner_table_asks_for_one_petitioner(as_user, cast):
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(petitioners=[]),
                                            headers={"accept-language": "en"})
    assert response.status_code == 400
    assert "至少登记一名信访人(条例第19条)。" in response.content.decode()
    nothing_saved()


def test_a_sixth_representative_is_refused(as_user, cast):
    """Art.20: several people with one matter choose at most 5 representatives."""
    rows = [{"name": f"代表{i}", "is_representative": True} for i in range(6)]
    _response, page = post_bad(as_user(cast.registrar), channel="visit", group_visit="on", head_count="6", petitioners=rows)
    assert "推选代表不超过5人(条例第20条),当前为6人" in page


def test_a_received_time_in_the_future_is_refused(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), received_at="2026-06-01T09:01")
    assert "收到时间不能晚于当前时间。" in page


def test_a_malformed_received_time_is_refused(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), received_at="昨天下午")
    assert "收到时间格式不正确。" in page


def test_oversize_text_is_refused(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), content="字" * 20001)
    assert "信访内容不能超过20000字,较长材料请作为附件上传。" in page
    _response, page = post_bad(as_user(cast.registrar), title="题" * 201)
    assert "标题不能超过200字。" in page
    _response, page = post_bad(as_user(cast.registrar), petitioners=[{**PETITIONER, "address": "址" * 201}])
    assert "住址不能超过200字。" in page


def test_head_count_below_the_petitioners_is_refused(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), head_count="1",
                               petitioners=[PETITIONER, {"name": "陈邻居", "id_number": ID_2}])
    assert "人数不能少于登记的信访人数" in page


def test_an_oversize_attachment_is_refused_and_the_user_told_to_choose_files_again(as_user, cast, settings, media_root):
    settings.MAX_UPLOAD_MB = 1
    big = SimpleUploadedFile("大文件.pdf", PDF + b"0" * (1024 * 1024), "application/pdf")
    _response, page = post_bad(as_user(cast.registrar), media_root, attachments=[big])
    assert "附件“大文件.pdf”超过 1 MB" in page
    assert "请在下方重新选择附件" in page


@pytest.mark.parametrize(("name", "content", "message"), [
    ("setup.exe", b"MZ\x90\x00", "附件“setup.exe”的类型不允许上传,只接受 pdf、jpg、png、doc、docx、xls、xlsx、txt 文件。"),
    ("无扩展名", b"hello", "的类型不允许上传"),
    ("伪装.pdf", b"MZ\x90\x00 not a pdf", "附件“伪装.pdf”的内容与其扩展名不符"),
    ("二进制.txt", b"abc\x00\x01\x02", "附件“二进制.txt”的内容与其扩展名不符"),
    ("空.pdf", b"", "是空文件"),
])
def test_a_disallowed_attachment_is_refused(as_user, cast, media_root, name, content, message):
    good = SimpleUploadedFile("来信.pdf", PDF, "application/pdf")
    bad = SimpleUploadedFile(name, content, "application/octet-stream")
    _response, page = post_bad(as_user(cast.registrar), media_root, attachments=[good, bad])
    assert message in page


def test_unknown_organs_and_choices_are_refused(as_user, cast):
    client = as_user(cast.registrar)
    _response, page = post_bad(client, category="report", accused_organ="999999")
    assert "所选被反映单位不存在或已停用。" in page
    _response, page = post_bad(client, submit="route", route_kind="forward", route_organ="999999")
    assert "所选去向机关不存在或已停用。" in page
    _response, page = post_bad(client, channel="pigeon")
    assert "请选择有效的信访形式。" in page
    _response, page = post_bad(client, topic="abc")
    assert "所选问题分类不存在或已停用。" in page


def test_an_accused_organ_outside_a_report_is_refused(as_user, cast):
    _response, page = post_bad(as_user(cast.registrar), category="claim", accused_organ=str(cast.urban.pk))
    assert "只有检举控告类事项需要填写被反映单位。" in page


def test_the_service_recheck_maps_back_to_the_field(as_user, cast):
    """The form cannot know that the registrar's own organ is the accused one; register_case
    refuses it (Art.28, 30) and its message shows next to the accused-organ field."""
    response, page = post_bad(as_user(cast.accused), category="report", accused_organ=str(cast.urban.pk))
    assert "本机关是被检举控告单位" in page
    assert response.context["form"].errors["accused_organ"]


def test_related_case_must_exist_and_be_visible(as_user, cast, make_case):
    foreign = workflow.register_case(cast.other, {
        "channel": "letter", "received_at": dt.datetime(2026, 5, 30, tzinfo=dt.timezone.utc), "title": "工资拖欠",
        "content": "公司拖欠工资三个月。", "category": Category.CLAIM}, [workflow.PetitionerData(name="某甲")])
    client = as_user(cast.registrar)
    response = client.post(reverse("case_register"), registration_post(related_number="JZXF-2026-999999"))
    assert response.status_code == 400
    assert "未找到编号为“JZXF-2026-999999”的信访事项" in response.content.decode()
    response = client.post(reverse("case_register"), registration_post(related_number=foreign.number))
    assert response.status_code == 400
    assert "或您无权查看该事项" in response.content.decode()
    response = client.post(reverse("case_register"), registration_post(same_facts="on"))
    assert response.status_code == 400
    assert "请填写关联原事项编号" in response.content.decode()
    assert Case.objects.count() == 1  # only the foreign one


def test_a_validation_error_keeps_everything_typed(as_user, cast):
    response, page = post_bad(as_user(cast.registrar), title="", content="保留我输入的内容", region=str(cast.district.pk),
                              major_urgent="on", petitioners=[{**PETITIONER, "name": "保留姓名", "id_number": "bad"}])
    assert "保留我输入的内容" in page and 'value="保留姓名"' in page and 'value="13800138000"' in page
    assert '<input type="checkbox" name="major_urgent" id="id_major_urgent" checked>' in page
    assert '<input type="checkbox" name="skip_level" id="id_skip_level">' in page
    assert f'<option value="{cast.district.pk}" selected>' in page


# --------------------------------------------------------------------------- register and route


def test_register_and_route_in_one_step(as_user, cast):
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(
        submit="route", route_kind="forward", route_organ=str(cast.housing.pk), route_note="请依法处理"))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("case_detail", args=[case.pk])
    assert case.state == State.PENDING and case.current_organ == cast.housing and case.route_kind == RouteKind.FORWARD
    assert messages_of(response) == [f"已登记信访事项 {case.number},并转送至江州市住房和城乡建设局。"]
    assert list(case.events.values_list("action", flat=True)) == ["register", "route"]


def test_register_and_assign_with_a_deadline(as_user, cast):
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(
        submit="route", route_kind="assign", route_organ=str(cast.housing.pk), assigned_due="2026-06-30"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.assigned_due == dt.date(2026, 6, 30) and case.report_required  # Art.22


def test_route_fields_are_ignored_when_only_registering(as_user, cast):
    response = as_user(cast.registrar).post(reverse("case_register"), registration_post(
        route_kind="forward", route_organ=str(cast.housing.pk)))
    assert response.status_code == 302
    assert Case.objects.get().state == State.REGISTERED


def test_register_and_route_needs_a_kind_an_organ_and_for_assign_a_deadline(as_user, cast):
    client = as_user(cast.registrar)
    _response, page = post_bad(client, submit="route")
    assert "登记并转送时,请选择交转方式。" in page and "登记并转送时,请选择去向机关。" in page
    _response, page = post_bad(client, submit="route", route_kind="assign", route_organ=str(cast.housing.pk))
    assert "交办须指定办结期限。" in page


def test_a_refused_route_saves_nothing_not_even_the_registration(as_user, cast, media_root):
    """Register and route are one transaction: 检举控告 material may not go to the accused organ
    (Art.30 ¶3), so the route is refused and the registration, its petitioners, attachments,
    events, audit entries and case number are all rolled back."""
    audit_before = AuditEntry.objects.count()
    response, page = post_bad(
        as_user(cast.registrar), media_root, submit="route", category="report", accused_organ=str(cast.urban.pk),
        route_kind="forward", route_organ=str(cast.urban.pk),
        attachments=[SimpleUploadedFile("检举信.pdf", PDF, "application/pdf")])
    assert "登记未保存:转送被拒绝。检举控告材料不得转给被检举控告的单位(条例第30条)。" in page
    assert response.context["form"].errors["route_organ"]
    assert AuditEntry.objects.count() == audit_before
    assert 'value="report"' in page and "小区电梯长期故障无人维修" in page  # typed data kept
    # The case number was not used up: the next registration gets 000001.
    as_user(cast.registrar).post(reverse("case_register"), registration_post())
    assert Case.objects.get().number == "JZXF-2026-000001"


def test_a_route_refused_for_its_kind_shows_next_to_the_kind(as_user, cast):
    """诉访分离 (Art.22, 28): a 涉法涉诉 matter goes to a 政法 organ."""
    response, page = post_bad(as_user(cast.registrar), submit="route", law_related="on",
                              route_kind="forward", route_organ=str(cast.housing.pk))
    assert "涉法涉诉事项应当按诉访分离转政法机关依法处理" in page
    assert response.context["form"].errors["route_kind"]


def test_an_assign_deadline_in_the_past_is_refused_by_the_service(as_user, cast):
    response, page = post_bad(as_user(cast.registrar), submit="route", route_kind="assign",
                              route_organ=str(cast.housing.pk), assigned_due="2026-05-01")
    assert "交办期限应晚于今天。" in page
    assert response.context["form"].errors["assigned_due"]


def test_a_skip_level_visit_is_not_routed_by_default(as_user, cast):
    """Art.20: a level-skipping visit is guided back (the default policy)."""
    _response, page = post_bad(as_user(cast.registrar), submit="route", channel="visit", skip_level="on",
                               route_kind="forward", route_organ=str(cast.housing.pk))
    assert "越级走访" in page


# --------------------------------------------------------------------------- case list


def listed(response) -> list[str]:
    return [c.number for c in response.context["cases"]]


def test_case_list_shows_what_the_user_may_see_newest_first(as_user, cast, make_case, travel):
    older = make_case("pending")
    travel(dt.datetime(2026, 6, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    newer = make_case("registered")
    response = as_user(cast.registrar).get(reverse("case_list"))
    assert response.status_code == 200
    assert listed(response) == [newer.number, older.number]
    page = response.content.decode()
    assert reverse("case_detail", args=[newer.pk]) in page and "刘市民" in page
    assert listed(as_user(cast.handler).get(reverse("case_list"))) == [older.number]


def test_case_list_shows_no_foreign_cases(as_user, cast, make_case):
    case = make_case("handling")
    response = as_user(cast.other).get(reverse("case_list"))
    assert response.status_code == 200
    assert listed(response) == []
    assert case.number not in response.content.decode()
    assert listed(as_user(cast.other).get(reverse("case_list"), {"number": case.number})) == []
    assert listed(as_user(cast.citizen).get(reverse("case_list"))) == []


def test_case_list_hides_a_report_from_the_accused_organ(as_user, cast):
    """Art.30 ¶3: a report never reaches the accused organ, not even in a list."""
    report = workflow.register_case(cast.accused, {
        "channel": "letter", "received_at": dt.datetime(2026, 5, 30, tzinfo=dt.timezone.utc), "title": "反映某科室",
        "content": "反映情况。", "category": Category.REPORT, "accused_organ": cast.labour},
        [workflow.PetitionerData(name="某乙")])
    assert listed(as_user(cast.accused).get(reverse("case_list"))) == [report.number]
    assert listed(as_user(cast.other).get(reverse("case_list"))) == []


def test_supervisor_sees_the_subtree(as_user, cast, make_case):
    case = make_case("handling")
    assert listed(as_user(cast.supervisor).get(reverse("case_list"))) == [case.number]


@pytest.fixture
def three_cases(cast, make_case, travel):
    """Three cases at the bureau/housing with different petitioners, channels, categories, states."""
    a = make_case("handling", title="小区电梯长期故障无人维修")
    travel(dt.datetime(2026, 6, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    b = workflow.register_case(cast.registrar, {
        "channel": "visit", "received_at": dt.datetime(2026, 6, 3, 1, 0, tzinfo=dt.timezone.utc),
        "title": "建议增设公交线路", "content": "建议在幸福里增设一条公交线路,方便居民出行。",
        "category": Category.SUGGESTION}, [workflow.PetitionerData(name="陈邻居", id_number=ID_2, phone="13911112222")])
    c = workflow.register_case(cast.registrar, {
        "channel": "online", "received_at": dt.datetime(2026, 6, 3, 2, 0, tzinfo=dt.timezone.utc),
        "title": "反映拖欠工资", "content": "某公司拖欠农民工工资。", "category": Category.CLAIM, "head_count": 2},
        [workflow.PetitionerData(name="王工人", id_number=ID_3, phone="02087654321"), workflow.PetitionerData(name="陈邻居")])
    return a, b, c


@pytest.mark.parametrize(("params", "expected"), [
    ({}, "cba"),
    ({"number": "JZXF-2026-000002"}, "b"),
    ({"number": "jzxf-2026-00000"}, "cba"),
    ({"number": "JZXF-2025"}, ""),
    ({"name": "陈邻居"}, "cb"),
    ({"name": "陈"}, ""),
    ({"phone": "13911112222"}, "b"),
    ({"phone": "13911112223"}, ""),
    ({"phone": "020 8765 4321"}, "c"),
    ({"id_number": ID_3}, "c"),
    ({"id_number": VALID_ID}, "a"),
    ({"q": "公交"}, "b"),
    ({"q": "拖欠农民工"}, "c"),
    ({"state": "handling"}, "a"),
    ({"state": "registered"}, "cb"),
    ({"state": "open"}, "cba"),
    ({"state": "closed"}, ""),
    ({"category": "suggestion"}, "b"),
    ({"channel": "online"}, "c"),
    ({"received_from": "2026-06-02"}, "cb"),
    ({"received_to": "2026-06-01"}, "a"),
    ({"received_from": "2026-06-03", "received_to": "2026-06-03"}, "cb"),
    ({"category": "claim", "name": "陈邻居"}, "c"),
])
def test_case_list_filters(as_user, cast, three_cases, params, expected):
    by_letter = dict(zip("abc", three_cases))
    response = as_user(cast.registrar).get(reverse("case_list"), params)
    assert response.status_code == 200
    assert listed(response) == [by_letter[x].number for x in expected]


def test_case_list_filters_by_current_organ(as_user, cast, three_cases):
    a, _b, _c = three_cases
    client = as_user(cast.registrar)
    assert listed(client.get(reverse("case_list"), {"organ": cast.housing.pk})) == [a.number]
    assert len(listed(client.get(reverse("case_list"), {"organ": cast.bureau.pk}))) == 2


def test_case_list_filters_by_deadline_grade(as_user, cast, three_cases, travel):
    a, b, c = three_cases

    def graded(grade):  # a fresh login each time: moving the clock ends the 8-hour session
        return listed(as_user(cast.registrar).get(reverse("case_list"), {"grade": grade}))

    assert graded("overdue") == [] and graded("near") == []
    travel(dt.date(2026, 6, 17))  # b and c: received 2026-06-03, 15-day route limit ends 06-18 (Art.22)
    assert graded("near") == [c.number, b.number]
    assert graded("overdue") == []
    travel(dt.date(2026, 6, 19))
    assert graded("overdue") == [c.number, b.number]
    assert graded("near") == []
    assert a.state == State.HANDLING and a.number not in graded("overdue")  # 60-day limit (Art.34)


@pytest.mark.parametrize(("params", "message"), [
    ({"state": "bogus"}, "状态“bogus”无效。"),
    ({"category": "x"}, "信访类别“x”无效。"),
    ({"channel": "pigeon"}, "信访形式“pigeon”无效。"),
    ({"grade": "late"}, "期限状态“late”无效。"),
    ({"organ": "abc"}, "所选机关不存在。"),
    ({"organ": "999999"}, "所选机关不存在。"),
    ({"received_from": "2026-13-45"}, "起始日期格式不正确,应为年-月-日。"),
    ({"received_to": "昨天"}, "截止日期格式不正确,应为年-月-日。"),
    ({"received_from": "2026-06-05", "received_to": "2026-06-01"}, "截止日期不能早于起始日期。"),
    ({"id_number": "123"}, "身份证号码应为18位"),
    ({"id_number": VALID_ID[:-1] + "0"}, "身份证号码校验位不正确"),
    ({"phone": "12"}, "联系电话格式不正确"),
    ({"phone": "abcd"}, "联系电话格式不正确"),
    ({"q": "电"}, "关键词至少2个字。"),
    ({"q": "长" * 101}, "关键词不能超过100字。"),
])
def test_bad_filter_values_get_a_chinese_message(as_user, cast, make_case, params, message):
    make_case("registered")
    response = as_user(cast.registrar).get(reverse("case_list"), params)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "查询条件有误" in page
    assert response.context["cases"] == []


def test_case_list_pages_keep_the_filters(as_user, cast, make_case, monkeypatch):
    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 2)
    cases = [make_case("registered") for _ in range(5)]
    newest_first = [c.number for c in sorted(cases, key=lambda c: (c.received_at, c.pk), reverse=True)]
    client = as_user(cast.registrar)
    first = client.get(reverse("case_list"), {"state": "registered"})
    assert listed(first) == newest_first[:2]
    page = first.content.decode()
    assert "共 5 条" in page and "第 1 / 3 页" in page
    assert "?state=registered&amp;page=2" in page
    assert listed(client.get(reverse("case_list"), {"state": "registered", "page": 2})) == newest_first[2:4]
    assert listed(client.get(reverse("case_list"), {"state": "registered", "page": 3})) == newest_first[4:]
    # A page out of range or not a number shows a valid page instead of an error.
    assert listed(client.get(reverse("case_list"), {"page": 99})) == newest_first[4:]
    assert listed(client.get(reverse("case_list"), {"page": "x"})) == newest_first[:2]


def test_case_list_caps_the_count(as_user, cast, make_case, monkeypatch):
    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 2)
    monkeypatch.setattr(views, "COUNT_CAP", 3)
    for _ in range(5):
        make_case("registered")
    response = as_user(cast.registrar).get(reverse("case_list"))
    assert response.context["page_obj"].paginator.capped
    assert "共 3+ 条,请缩小查询条件" in response.content.decode()
    response = as_user(cast.registrar).get(reverse("case_list"), {"number": "JZXF-2026-000001"})
    assert not response.context["page_obj"].paginator.capped


@pytest.mark.parametrize("few", [True, False])
def test_case_list_pages_and_counts_alike_however_the_rows_are_found(as_user, cast, make_case, monkeypatch, few):
    """An organ holding few cases is counted from its links, and read from them past DEEP_PAGE; an
    organ holding many is walked newest first. The pages and totals are the same either way."""
    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 2)
    monkeypatch.setattr(views, "DEEP_PAGE", 1)
    monkeypatch.setattr(views, "holds_few_cases", lambda user: few)
    cases = [make_case("pending") for _ in range(5)]
    make_case("registered")  # still at the bureau: not the housing bureau's
    newest_first = [c.number for c in sorted(cases, key=lambda c: (c.received_at, c.pk), reverse=True)]
    client = as_user(cast.handler)
    first = client.get(reverse("case_list"))
    assert listed(first) == newest_first[:2] and "共 5 条" in first.content.decode()
    assert listed(client.get(reverse("case_list"), {"page": 2})) == newest_first[2:4]
    assert listed(client.get(reverse("case_list"), {"page": 3})) == newest_first[4:]


def test_case_list_query_count_does_not_grow_with_rows(as_user, cast, make_case, django_assert_max_num_queries):
    for _ in range(6):
        make_case("pending")
    client = as_user(cast.registrar)
    # One query each for the 重 (dedup) and 督 (挂牌督办) flags of the whole table, two to choose
    # how to count (access.holds_few_cases), and the page read as ids, then rows (CappedPaginator).
    with django_assert_max_num_queries(12):
        response = client.get(reverse("case_list"), {"name": "刘市民", "state": "open"})
    assert len(listed(response)) == 6
