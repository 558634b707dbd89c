"""The inbox, the case page, the identity reveal and attachment download (xinfang.handling.views)."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.models import Category, State
from xinfang.cases.validators import mask_id_number, mask_phone
from xinfang.handling.views import PAGE_SIZE
from tests.conftest import VALID_ID, petition_data

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


def inbox(client, tab):
    return client.get(reverse("inbox"), {"tab": tab})


def listed(response) -> set[str]:
    """Case numbers listed in the inbox table of `response`."""
    return {c.number for c in response.context["cases"]}


def tab_counts(response) -> dict[str, int]:
    return {t["code"]: t["count"] for t in response.context["tabs"]}


# --------------------------------------------------------------------------- inbox


def test_inbox_sends_anonymous_users_to_log_in(client):
    response = client.get(reverse("inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_inbox_tabs_list_the_cases_at_the_users_organ(cast, make_case, as_user):
    registered = make_case("registered")
    pending = make_case("pending")
    handling = make_case("handling")
    replied = make_case("replied")
    review = make_case("review")
    returned = workflow.object_case(cast.handler, make_case("pending"), reason="该事项属于人社部门职责")

    bureau = as_user(cast.registrar)
    assert listed(inbox(bureau, "registered")) == {registered.number}
    assert listed(inbox(bureau, "returned")) == {returned.number}
    assert listed(inbox(bureau, "pending")) == set()  # routed on: no longer at the bureau

    housing = as_user(cast.handler)
    response = inbox(housing, "pending")
    assert response.status_code == 200
    assert listed(response) == {pending.number}
    assert listed(inbox(housing, "handling")) == {handling.number}
    assert listed(inbox(housing, "replied")) == {replied.number}
    assert tab_counts(response) == {"registered": 0, "pending": 1, "returned": 0, "handling": 1, "near": 0,
                                    "overdue": 0, "review": 0, "replied": 1}
    assert pending.number in response.content.decode()

    assert listed(inbox(as_user(cast.reviewer), "review")) == {review.number}


def test_inbox_of_another_organ_does_not_list_the_case(cast, make_case, as_user):
    make_case("pending")
    response = inbox(as_user(cast.other), "pending")
    assert response.status_code == 200
    assert listed(response) == set()
    assert set(tab_counts(response).values()) == {0}


def test_inbox_is_empty_for_users_without_an_organ(cast, make_case, as_user):
    make_case("pending")
    for user in (cast.citizen, cast.admin):  # a superuser without an organ has no inbox either
        response = inbox(as_user(user), "pending")
        assert response.status_code == 200
        assert listed(response) == set()


def test_inbox_hides_a_report_from_the_accused_organ(cast, as_user):
    """Art.30 ¶3: even a report sitting at the accused organ by mistake does not show there."""
    case = workflow.register_case(cast.accused, petition_data(category=Category.REPORT, accused_organ=cast.housing),
                                  [workflow.PetitionerData(name="匿名检举人")])
    assert listed(inbox(as_user(cast.accused), "pending")) == {case.number}  # registered at 城管局 itself
    case.accused_organ = cast.urban
    case.save(update_fields=["accused_organ"])
    assert listed(inbox(as_user(cast.accused), "pending")) == set()


def test_inbox_near_and_overdue_tabs_follow_the_due_date(cast, make_case, as_user, travel):
    pending = make_case("pending")  # 受理告知 15 days from 2026-06-01 (Art.23)
    handling = make_case("handling")  # 办结 60 days (Art.34)
    assert pending.due_on == dt.date(2026, 6, 16) and pending.due_warn_on == dt.date(2026, 6, 14)
    client = as_user(cast.handler)
    assert listed(inbox(client, "near")) == set() and listed(inbox(client, "overdue")) == set()

    travel(dt.date(2026, 6, 14))  # first warning day
    assert listed(inbox(client, "near")) == {pending.number}
    assert listed(inbox(client, "overdue")) == set()

    travel(dt.date(2026, 6, 16))  # the due day itself is still 临期, not 超期
    assert listed(inbox(client, "near")) == {pending.number}

    travel(dt.date(2026, 6, 17))
    response = inbox(client, "overdue")
    assert listed(response) == {pending.number}
    assert listed(inbox(client, "near")) == set()
    assert tab_counts(response)["overdue"] == 1
    assert "超期" in response.content.decode()
    assert handling.number not in {c.number for c in response.context["cases"]}


def test_inbox_sorts_by_due_date_and_pages(cast, make_case, as_user, travel):
    late = make_case("pending")
    travel(dt.date(2026, 6, 3))
    later = make_case("pending")
    travel(dt.date(2026, 6, 5))
    response = inbox(as_user(cast.handler), "pending")
    assert [c.number for c in response.context["cases"]] == [late.number, later.number]
    assert response.context["page_obj"].paginator.per_page == PAGE_SIZE


def test_inbox_opens_on_the_first_tab_with_work(cast, make_case, as_user):
    registered, handling = make_case("registered"), make_case("handling")
    response = as_user(cast.registrar).get(reverse("inbox"))
    assert response.context["tab"] == "registered" and listed(response) == {registered.number}
    response = inbox(as_user(cast.handler), "nonsense")
    assert response.status_code == 200 and response.context["tab"] == "handling"
    assert listed(response) == {handling.number}
    assert as_user(cast.other).get(reverse("inbox")).context["tab"] == "pending"  # nothing anywhere


def test_inbox_query_count_does_not_grow_with_the_cases(cast, make_case, as_user):
    client = as_user(cast.handler)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = inbox(client, "pending")
        # only the page's own queries (the test client's session bookkeeping varies)
        own = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT") and "django_session" not in q["sql"]]
        return len(own), response

    for _i in range(3):
        make_case("pending")
    few, _response = queries()
    for _i in range(7):
        make_case("pending")
    many, response = queries()
    assert len(listed(response)) == 10
    assert many == few  # petitioners and organs are prefetched, not fetched per row


# --------------------------------------------------------------------------- case page


def test_case_page_shows_facts_parties_deadlines_timeline_and_documents(cast, make_case, as_user):
    case = make_case("handling", group_visit=True, major_urgent=True)
    response = as_user(cast.handler).get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (case.number, case.title, "办理中", "正常", "2026-07-31", "来信", "集体访", "重大紧急",
                 "江州市信访局", "江州市住房和城乡建设局", "⑥调查核实并出具信访处理意见书",
                 "受理告知", "办结期限", "转送/交办", "受理", "李登记", "王承办", "刘市民"):
        assert text in html, text
    # masked identity (PIPL): the full ID number and phone are not in the page
    assert mask_id_number(VALID_ID) in html and mask_phone(PHONE) in html
    assert VALID_ID not in html and PHONE not in html
    # documents with both formats
    for doc in case.documents.all():
        assert doc.number in html
        assert reverse("document_download", kwargs={"case_pk": case.pk, "doc_pk": doc.pk, "fmt": "pdf"}) in html
        assert reverse("document_download", kwargs={"case_pk": case.pk, "doc_pk": doc.pk, "fmt": "docx"}) in html
    # the actions the handler may take now, and not the head's
    assert reverse("case_action", args=[case.pk, "reply"]) in html
    assert reverse("case_action", args=[case.pk, "extend"]) not in html
    head_html = as_user(cast.head).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("case_action", args=[case.pk, "extend"]) in head_html


def test_case_page_is_404_for_another_organ_and_redirects_anonymous(cast, make_case, as_user, client):
    case = make_case("handling")
    url = reverse("case_detail", args=[case.pk])
    assert as_user(cast.other).get(url).status_code == 404
    assert as_user(cast.citizen).get(url).status_code == 404
    assert as_user(cast.handler).get(reverse("case_detail", args=[case.pk + 999])).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_case_page_of_a_report_is_404_for_the_accused_organ(cast, as_user):
    """Art.30 ¶3: the reporting material never reaches the accused unit."""
    case = workflow.register_case(cast.registrar, petition_data(category=Category.REPORT, accused_organ=cast.urban),
                                  [workflow.PetitionerData(name="检举人")])
    workflow.route_case(cast.registrar, case, kind="discipline", organ=cast.discipline)
    url = reverse("case_detail", args=[case.pk])
    assert as_user(cast.discipline_handler).get(url).status_code == 200
    assert as_user(cast.accused).get(url).status_code == 404


def test_case_page_shows_no_actions_to_an_overseer(cast, make_case, as_user):
    case = make_case("handling")
    response = as_user(cast.leader).get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    assert response.context["actions"] == []
    assert "/act/" not in response.content.decode()


def test_deadline_table_marks_met_and_late(cast, make_case, as_user, travel):
    case = make_case("pending")
    travel(dt.date(2026, 6, 20))  # accepted after the 15-day acceptance limit (Art.23)
    workflow.accept_case(cast.handler, case, route="r6")
    response = as_user(cast.handler).get(reverse("case_detail", args=[case.pk]))
    rows = {row["deadline"].rule_id: row for row in response.context["deadlines"]}
    assert rows["accept"]["status_class"] == "late"
    assert rows["handle"]["status_class"] == "open" and rows["handle"]["grade"] == "normal"
    assert rows["object"]["status_class"] == "ended"
    assert "逾期完成" in response.content.decode()


# --------------------------------------------------------------------------- identity reveal


def test_holder_reveals_full_identity_and_it_is_audited(cast, make_case, as_user):
    case = make_case("handling")
    client = as_user(cast.handler)
    assert client.get(reverse("case_detail", args=[case.pk])).context["can_reveal"] is True
    before = AuditEntry.objects.count()
    response = client.post(reverse("case_reveal", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert VALID_ID in html and PHONE in html and "东湖区幸福里3栋" in html
    assert response["Cache-Control"] == "no-store"
    entry = AuditEntry.objects.order_by("-seq").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "case.reveal_identity" and entry.actor == cast.handler and entry.object_id == str(case.pk)


def test_reveal_with_htmx_returns_only_the_petitioner_block(cast, make_case, as_user):
    case = make_case("handling")
    response = as_user(cast.handler).post(reverse("case_reveal", args=[case.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and VALID_ID in html and "<html" not in html


def test_reveal_is_refused_to_those_not_holding_the_case(cast, make_case, as_user, client):
    case = make_case("handling")
    url = reverse("case_reveal", args=[case.pk])
    before = AuditEntry.objects.count()
    # the leader oversees the organ and may read the case, but does not hold it
    leader = as_user(cast.leader)
    assert leader.get(reverse("case_detail", args=[case.pk])).context["can_reveal"] is False
    assert leader.post(url).status_code == 404
    assert as_user(cast.other).post(url).status_code == 404
    assert as_user(cast.handler).get(url).status_code == 405  # a GET never reveals
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert AuditEntry.objects.count() == before


# --------------------------------------------------------------------------- attachments


def _case_with_attachment(cast, name="信访材料 第1页.pdf", data=b"%PDF-1.4 test"):
    upload = SimpleUploadedFile("upload.pdf", data, content_type="application/pdf")
    case = workflow.register_case(cast.registrar, petition_data(), [workflow.PetitionerData(name="刘市民")],
                                  attachments=[(name, upload)])
    return case, case.attachments.get()


def test_attachment_downloads_with_utf8_filename(cast, as_user):
    case, attachment = _case_with_attachment(cast)
    response = as_user(cast.registrar).get(reverse("attachment_download", args=[case.pk, attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('信访材料 第1页.pdf')}" in disposition
    assert AuditEntry.objects.filter(action="case.attachment_download", object_id=str(case.pk)).exists()
    # and the case page links to it
    page = as_user(cast.registrar).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert reverse("attachment_download", args=[case.pk, attachment.pk]) in page


def test_attachment_of_another_case_or_organ_is_404(cast, as_user, client):
    case, attachment = _case_with_attachment(cast)
    other_case, other_attachment = _case_with_attachment(cast, name="另一件.pdf")
    registrar = as_user(cast.registrar)
    assert registrar.get(reverse("attachment_download", args=[case.pk, other_attachment.pk])).status_code == 404
    assert as_user(cast.other).get(reverse("attachment_download", args=[case.pk, attachment.pk])).status_code == 404
    response = client.get(reverse("attachment_download", args=[case.pk, attachment.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_attachment_missing_on_disk_is_404(cast, as_user):
    case, attachment = _case_with_attachment(cast)
    attachment.file.storage.delete(attachment.file.name)
    assert as_user(cast.registrar).get(reverse("attachment_download", args=[case.pk, attachment.pk])).status_code == 404


def test_state_badge_and_closed_case_page(cast, make_case, as_user):
    case = make_case("closed")
    response = as_user(cast.re_reviewer).get(reverse("case_detail", args=[case.pk]))
    assert response.status_code == 200
    assert case.state == State.CLOSED and "已办结(复核终结)" in response.content.decode()
