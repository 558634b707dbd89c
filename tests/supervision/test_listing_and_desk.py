"""挂牌督办 (Art.39) marked everywhere a case appears, and the supervision desk (overdue and
near-due cases by organ and stage, within the supervisor's oversight)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.conftest import petition_data
from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import Case, Event
from xinfang.supervision import services as sv
from xinfang.supervision.models import CaseListing

FLAG = 'class="flag flag-listed"'


def test_supervisor_lists_and_clears_a_case(cast, handling_case, as_user):
    client = as_user(cast.supervisor)
    url = reverse("supervision:case_listing", args=[handling_case.pk])
    response = client.post(url, {"op": "set", "reason": "群众反映强烈,久拖未决"})
    assert response.status_code == 302
    listing = CaseListing.objects.get(case=handling_case, cleared_at__isnull=True)
    assert listing.listed_by == cast.supervisor and listing.organ == cast.bureau
    # Listed twice: refused, still one listing.
    again = client.post(url, {"op": "set", "reason": "再挂"})
    assert again.status_code == 400 and "该事项已挂牌督办。" in again.content.decode()
    assert CaseListing.objects.count() == 1
    # Cleared with a reason; the history stays.
    assert client.post(url, {"op": "clear", "reason": "已办结"}).status_code == 302
    listing.refresh_from_db()
    assert listing.cleared_at and listing.clear_reason == "已办结" and not sv.listed_ids([handling_case.pk])
    assert list(Event.objects.filter(case=handling_case, action__startswith="supervision.")
                .values_list("action", flat=True)) == ["supervision.list", "supervision.unlist"]
    assert AuditEntry.objects.filter(action="supervision.list").count() == 1
    with pytest.raises(WorkflowError, match="未挂牌"):
        sv.unlist_case(cast.supervisor, handling_case, reason="再摘")


@pytest.mark.parametrize("who", ["handler", "head", "registrar", "leader"])
def test_only_supervisors_list_cases(cast, handling_case, as_user, who):
    response = as_user(getattr(cast, who)).post(reverse("supervision:case_listing", args=[handling_case.pk]),
                                                {"op": "set", "reason": "试图挂牌"})
    assert response.status_code == 403 and "该操作须由督查员办理。" in response.content.decode()
    assert not CaseListing.objects.exists()


def test_listing_needs_a_reason(cast, handling_case):
    with pytest.raises(WorkflowError, match="挂牌理由"):
        sv.list_case(cast.supervisor, handling_case, reason=" ")
    assert not CaseListing.objects.exists()


def test_listed_cases_are_marked_everywhere(cast, make_case, as_user):
    listed, plain = make_case("pending"), make_case("pending")
    sv.list_case(cast.supervisor, listed, reason="挂牌督办")
    handler = as_user(cast.handler)

    def marked(html, case):
        row = html.split(case.number, 1)[1].split("</tr>", 1)[0]
        return FLAG in row

    for client, url in ((handler, reverse("inbox")), (handler, reverse("case_list")),
                        (as_user(cast.supervisor), reverse("case_list"))):
        html = client.get(url).content.decode()
        assert marked(html, listed) and not marked(html, plain), url
    # The case page (heading badge and the panel) and the action pages' case line.
    page = handler.get(reverse("case_detail", args=[listed.pk])).content.decode()
    assert FLAG in page and "挂牌督办" in page
    assert FLAG not in handler.get(reverse("case_detail", args=[plain.pk])).content.decode()
    action = handler.get(reverse("case_action", args=[listed.pk, "accept"])).content.decode()
    assert FLAG in action


def test_the_mark_costs_one_query_per_page(cast, make_case, as_user, django_assert_num_queries):
    """No N+1: the inbox with 1 or 4 listed cases runs the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    handler = as_user(cast.handler)

    def count():
        handler.get(reverse("inbox"))  # warm the session
        with CaptureQueriesContext(connection) as ctx:
            handler.get(reverse("inbox"))
        return len(ctx.captured_queries)

    sv.list_case(cast.supervisor, make_case("pending"), reason="一")
    one = count()
    for _ in range(3):
        sv.list_case(cast.supervisor, make_case("pending"), reason="再")
    assert count() == one


def test_timeline_names_supervision_acts(cast, handling_case, as_user):
    sv.list_case(cast.supervisor, handling_case, reason="久拖未决")
    page = as_user(cast.handler).get(reverse("case_detail", args=[handling_case.pk])).content.decode()
    assert "<strong>挂牌督办</strong>" in page and "supervision.list" not in page


# --------------------------------------------------------------------------- the desk


def test_desk_groups_overdue_and_near_cases_by_organ_and_stage(cast, make_case, as_user, travel):
    early = make_case("pending")  # acceptance due in 15 days (Art.23)
    travel(dt.date(2026, 6, 10))
    late = make_case("pending")
    early.refresh_from_db(), late.refresh_from_db()
    today = late.due_warn_on  # late enters its warning days (临期); early is long past due
    assert early.due_on < today <= late.due_on
    travel(today)
    # A limit pending for a missing calendar year is neither overdue nor near.
    pending = make_case("pending")
    Case.objects.filter(pk=pending.pk).update(due_on=None, due_warn_on=None, due_pending_year=2027)

    response = as_user(cast.supervisor).get(reverse("supervision:desk"))
    assert response.status_code == 200
    summary = {(r["current_organ__name"], r["state"]): (r["overdue"], r["near"]) for r in response.context["summary"]}
    assert summary[(cast.housing.name, "pending")] == (1, 1)
    assert response.context["totals"]["overdue"] >= 1 and response.context["pending"] == 1
    ids = {c.pk for c in response.context["cases"]}
    assert {early.pk, late.pk} <= ids and pending.pk not in ids

    overdue = as_user(cast.supervisor).get(reverse("supervision:desk"),
                                           {"organ": cast.housing.pk, "state": "pending", "grade": "overdue"})
    assert [c.pk for c in overdue.context["cases"]] == [early.pk]
    near = as_user(cast.supervisor).get(reverse("supervision:desk"), {"grade": "near", "organ": cast.housing.pk})
    assert [c.pk for c in near.context["cases"]] == [late.pk]


def test_desk_shows_only_the_supervisors_subtree(cast, make_case, as_user, travel):
    mine = make_case("pending")
    outside = workflow.register_case(cast.other, petition_data(), [workflow.PetitionerData(name="甲")])  # at 人社局
    travel(dt.date(2026, 7, 1))
    ids = {c.pk for c in as_user(cast.supervisor).get(reverse("supervision:desk")).context["cases"]}
    assert mine.pk in ids and outside.pk not in ids
    # The leader of the city government oversees 人社局 too.
    leader_ids = {c.pk for c in sv.desk_cases(cast.leader)}
    assert {mine.pk, outside.pk} <= leader_ids


@pytest.mark.parametrize("who", ["handler", "leader", "registrar"])
def test_desk_is_for_supervisors(cast, as_user, who):
    response = as_user(getattr(cast, who)).get(reverse("supervision:desk"))
    assert response.status_code == 403 and "督办台仅供督查员使用。" in response.content.decode()
