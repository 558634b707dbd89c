"""The pages: the registration panel, the case panel with decisions, the comparison; visibility."""
import pytest
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Category
from xinfang.dedup.models import Decision, Link, Status

from ..conftest import PASSWORD
from .conftest import EDITED, PERSON


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def draft(**over):
    data = {"title": "电梯故障", "content": EDITED, "category": "claim", "p-TOTAL_FORMS": "1",
            "p-0-name": PERSON["name"], "p-0-id_number": PERSON["id_number"], "p-0-phone": PERSON["phone"],
            "p-0-address": PERSON["address"]}
    data.update(over)
    return data


def test_register_page_carries_the_panel(client, cast):
    body = login(client, cast.registrar).get(reverse("case_register")).content.decode()
    assert reverse("dedup:screen") in body and "dedup/dedup.js" in body
    assert "<script>" not in body.split("dedup-panel")[1].split("</fieldset>")[0]


def test_screen_shows_candidates_with_score_kind_and_refusal(client, cast, make_case):
    earlier = make_case("handling")
    body = login(client, cast.registrar).post(reverse("dedup:screen"), draft(), HTTP_HX_REQUEST="true").content.decode()
    assert earlier.number in body and "重复信访" in body and "%" in body and "第19条" in body
    assert reverse("dedup:compare_draft", args=[earlier.pk]) in body


def test_screen_hides_cases_of_other_organs_and_says_only_why(client, cast, make_case):
    earlier = make_case("handling")
    # 人社局 never had the case: no candidate, no count, but the refusal without number or content.
    body = login(client, cast.other).post(reverse("dedup:screen"), draft()).content.decode()
    assert earlier.number not in body and earlier.title not in body and "对比" not in body
    assert "第19条" in body and "内容不予显示" in body


def test_accused_organ_never_sees_a_report_case(client, cast, register):
    report = register(category=Category.REPORT, accused_organ=cast.urban, title="举报城管执法人员收受好处",
                      content="城管局执法人员在东湖区夜市多次收受摊贩好处费,对违规占道经营视而不见,请求调查处理。")
    body = login(client, cast.accused).post(reverse("dedup:screen"), draft(
        title="举报城管执法人员", content=report.content, **{"p-0-name": "另一人", "p-0-id_number": "", "p-0-phone": "",
                                                               "p-0-address": ""})).content.decode()
    assert report.number not in body and "举报" not in body.replace("举报城管执法人员", "")
    assert client.get(reverse("dedup:case_panel", args=[report.pk])).status_code == 404


def test_screen_requires_login(client, cast):
    response = client.post(reverse("dedup:screen"), draft())
    assert response.status_code == 302 and "login" in response["Location"]


def test_case_panel_confirm_dismiss_undo_are_recorded(client, cast, register):
    first = register()
    again = register(content=EDITED)
    link = Link.objects.get(case=again)
    login(client, cast.registrar)
    page = client.get(reverse("case_detail", args=[again.pk])).content.decode()
    assert first.number in page and "重复信访" in page and reverse("dedup:decide", args=[link.pk, "confirm"]) in page
    url = lambda action: reverse("dedup:decide", args=[link.pk, action])  # noqa: E731
    assert client.post(url("confirm"), {"case": again.pk}, HTTP_HX_REQUEST="true").status_code == 200
    link.refresh_from_db()
    assert link.status == Status.CONFIRMED and link.decided_by == cast.registrar
    client.post(url("undo"), {"case": again.pk})
    client.post(url("dismiss"), {"case": again.pk})
    link.refresh_from_db()
    assert link.status == Status.DISMISSED
    assert list(Decision.objects.filter(link=link).values_list("action", flat=True)) == ["confirm", "undo", "dismiss"]
    assert AuditEntry.objects.filter(action__startswith="dedup.").count() == 3


def test_case_panel_other_organ_gets_404_and_cannot_decide(client, cast, register):
    register()
    again = register(content=EDITED)
    link = Link.objects.get(case=again)
    login(client, cast.other)
    assert client.get(reverse("dedup:case_panel", args=[again.pk])).status_code == 404
    assert client.post(reverse("dedup:decide", args=[link.pk, "confirm"])).status_code == 404
    assert client.get(reverse("dedup:compare", args=[link.earlier_id, again.pk])).status_code == 404
    link.refresh_from_db()
    assert link.status == Status.SUSPECTED and not Decision.objects.exists()


def test_case_panel_right_user_and_anonymous(client, cast, register):
    first = register()
    again = register(content=EDITED)
    assert client.get(reverse("dedup:case_panel", args=[again.pk])).status_code == 302
    body = login(client, cast.registrar).get(reverse("dedup:case_panel", args=[again.pk])).content.decode()
    assert first.number in body


def test_compare_marks_shared_text(client, cast, register):
    first = register()
    again = register(content=EDITED)
    body = login(client, cast.registrar).get(reverse("dedup:compare", args=[first.pk, again.pk])).content.decode()
    assert '<mark class="dup-same">' in body and first.number in body and again.number in body


def test_list_flags_repeats(client, cast, register):
    register()
    again = register(content=EDITED)
    body = login(client, cast.registrar).get(reverse("case_list")).content.decode()
    row = body.split(again.number)[1].split("</tr>")[0]
    assert "疑似重复信访" in row


@pytest.mark.parametrize("user", ["handler", "supervisor"])
def test_holder_organ_and_supervisor_see_the_links(client, cast, make_case, register, user):
    make_case("pending")
    again = register(content=EDITED)
    assert Link.objects.filter(case=again).exists()
    body = login(client, getattr(cast, user)).get(reverse("dedup:case_panel", args=[again.pk]))
    # The handling organ may not see the new case at the bureau yet (404); the supervisor sees both.
    assert body.status_code == (404 if user == "handler" else 200)


def test_case_page_refusal_about_an_invisible_case_names_no_case(client, cast, make_case, register):
    earlier = make_case("handling")  # at the city: the district bureau may not see it
    again = register(content=EDITED, user=cast.district_registrar)
    assert Link.objects.filter(case=again, earlier=earlier).exists()
    body = login(client, cast.district_registrar).get(reverse("dedup:case_panel", args=[again.pk])).content.decode()
    assert "第19条" in body and "内容不予显示" in body
    assert earlier.number not in body and earlier.title not in body
