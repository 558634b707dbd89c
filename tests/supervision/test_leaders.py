"""领导包案, leaders' 批示 and the joint conference's 提级 (REGULATION §5: who, when, instruction,
result)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.conftest import _user
from xinfang.audit.models import AuditEntry
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import Event
from xinfang.orgs.models import Role
from xinfang.supervision import services as sv
from xinfang.supervision.models import Escalation, Instruction, LeaderAssignment


def test_supervisor_assigns_a_leader_and_the_leader_desk_lists_the_case(cast, handling_case, make_case, as_user):
    other_case = make_case("pending")
    response = as_user(cast.supervisor).post(reverse("supervision:leader_assign", args=[handling_case.pk]),
                                             {"leader": cast.leader.pk, "assigned_on": "2026-05-30", "note": "重点化解"})
    assert response.status_code == 302
    a = LeaderAssignment.objects.get()
    assert (a.leader, a.assigned_on, a.assigned_by, a.is_active) == (cast.leader, dt.date(2026, 5, 30), cast.supervisor, True)
    desk = as_user(cast.leader).get(reverse("supervision:leader_desk"))
    assert [x.case for x in desk.context["assignments"]] == [handling_case]
    html = desk.content.decode()
    assert handling_case.number in html and other_case.number not in html
    assert "办理中" in html and handling_case.due_on.isoformat() in html  # state and due date
    # The case page names the leader.
    assert "褚领导" in as_user(cast.handler).get(reverse("case_detail", args=[handling_case.pk])).content.decode()
    # Twice: refused.
    with pytest.raises(WorkflowError, match="已包案"):
        sv.assign_leader(cast.supervisor, handling_case, leader=cast.leader, assigned_on=dt.date(2026, 6, 1))
    assert AuditEntry.objects.filter(action="supervision.leader").count() == 1


@pytest.mark.parametrize("who", ["handler", "head", "registrar"])
def test_only_supervisors_assign_leaders(cast, handling_case, as_user, who):
    response = as_user(getattr(cast, who)).post(reverse("supervision:leader_assign", args=[handling_case.pk]),
                                                {"leader": cast.leader.pk, "assigned_on": "2026-06-01"})
    assert response.status_code == 403 and "领导包案须由督查员安排" in response.content.decode()
    assert not LeaderAssignment.objects.exists()


def test_a_leader_takes_a_case_only_for_themselves(cast, handling_case):
    sv.assign_leader(cast.leader, handling_case, leader=cast.leader, assigned_on=dt.date(2026, 6, 1))
    other_leader = _user("leader2", cast.city_gov, Role.LEADER, name="卫领导")
    with pytest.raises(sv.Refused):
        sv.assign_leader(cast.leader, handling_case, leader=other_leader, assigned_on=dt.date(2026, 6, 1))
    assert LeaderAssignment.objects.count() == 1


def test_the_leader_must_oversee_the_case(cast, handling_case):
    # A leader of 东湖区信访局 does not oversee a city case.
    district_leader = _user("dh_leader", cast.district_bureau, Role.LEADER, name="区领导")
    with pytest.raises(WorkflowError, match="不分管"):
        sv.assign_leader(cast.supervisor, handling_case, leader=district_leader, assigned_on=dt.date(2026, 6, 1))
    with pytest.raises(WorkflowError, match="包案领导"):
        sv.assign_leader(cast.supervisor, handling_case, leader=cast.handler, assigned_on=dt.date(2026, 6, 1))
    with pytest.raises(WorkflowError, match="晚于今天"):
        sv.assign_leader(cast.supervisor, handling_case, leader=cast.leader, assigned_on=dt.date(2026, 6, 2))
    assert not LeaderAssignment.objects.exists()


def test_ending_an_assignment(cast, handling_case, as_user):
    a = sv.assign_leader(cast.supervisor, handling_case, leader=cast.leader, assigned_on=dt.date(2026, 6, 1))
    assert as_user(cast.handler).post(reverse("supervision:leader_end", args=[handling_case.pk, a.pk])).status_code == 403
    assert as_user(cast.leader).post(reverse("supervision:leader_end", args=[handling_case.pk, a.pk])).status_code == 302
    a.refresh_from_db()
    assert not a.is_active
    assert not as_user(cast.leader).get(reverse("supervision:leader_desk")).context["assignments"]


def test_leader_desk_is_for_leaders(cast, as_user):
    response = as_user(cast.supervisor).get(reverse("supervision:leader_desk"))
    assert response.status_code == 403 and "包案台仅供领导使用。" in response.content.decode()


# --------------------------------------------------------------------------- 批示


def test_instruction_shows_on_the_case_and_in_the_organs_inbox(cast, handling_case, as_user):
    response = as_user(cast.leader).post(reverse("supervision:instruct", args=[handling_case.pk]),
                                         {"text": "请住建局十日内督促物业修复电梯,并回复群众。"})
    assert response.status_code == 302
    instruction = Instruction.objects.get()
    assert (instruction.leader, instruction.organ) == (cast.leader, cast.housing)
    text = "请住建局十日内督促物业修复电梯,并回复群众。"
    assert text in as_user(cast.handler).get(reverse("case_detail", args=[handling_case.pk])).content.decode()
    inbox = as_user(cast.handler).get(reverse("inbox")).content.decode()
    assert text in inbox and "领导批示" in inbox
    assert text not in as_user(cast.other).get(reverse("inbox")).content.decode()
    event = Event.objects.get(case=handling_case, action="supervision.instruct")
    assert event.note == text and event.from_state == event.to_state == "handling"
    # Signing for it takes it off the inbox; another organ cannot (404), a second time is refused.
    url = reverse("supervision:instruction_read", args=[instruction.pk])
    assert as_user(cast.other).post(url).status_code == 404
    assert as_user(cast.handler).post(url, {"next": reverse("inbox")}).status_code == 302
    instruction.refresh_from_db()
    assert instruction.read_by == cast.handler
    assert text not in as_user(cast.handler).get(reverse("inbox")).content.decode()
    assert as_user(cast.handler).post(url).status_code == 400


@pytest.mark.parametrize("who", ["handler", "supervisor", "head"])
def test_only_leaders_instruct(cast, handling_case, as_user, who):
    response = as_user(getattr(cast, who)).post(reverse("supervision:instruct", args=[handling_case.pk]), {"text": "批示"})
    assert response.status_code == 403 and "批示须由领导作出。" in response.content.decode()
    assert not Instruction.objects.exists()


def test_an_invisible_case_is_missing_for_the_leader(cast, as_user):
    from tests.conftest import petition_data
    from xinfang.cases import workflow

    # Registered at 省政府, above 江州市人民政府: outside the city leader's oversight.
    case = workflow.register_case(cast.re_reviewer, petition_data(), [workflow.PetitionerData(name="甲")])
    response = as_user(cast.leader).post(reverse("supervision:instruct", args=[case.pk]), {"text": "批示"})
    assert response.status_code == 404 and not Instruction.objects.exists()


# --------------------------------------------------------------------------- 提级


def test_joint_conference_escalation_is_recorded(cast, handling_case, as_user):
    response = as_user(cast.leader).post(reverse("supervision:escalate", args=[handling_case.pk]), {
        "conference": "市信访工作联席会议第3次会议", "decided_on": "2026-05-29", "to_organ": cast.city_gov.pk,
        "reason": "涉及多部门,住建局难以单独化解"})
    assert response.status_code == 302
    e = Escalation.objects.get()
    assert (e.recorded_by, e.decided_on, e.from_organ, e.to_organ, e.to_level) == (
        cast.leader, dt.date(2026, 5, 29), cast.housing, cast.city_gov, "city")
    handling_case.refresh_from_db()
    assert handling_case.state == "handling" and handling_case.current_organ == cast.housing  # no state change here
    page = as_user(cast.handler).get(reverse("case_detail", args=[handling_case.pk])).content.decode()
    assert "市信访工作联席会议第3次会议" in page and "涉及多部门" in page
    # The result, later.
    url = reverse("supervision:escalation_result", args=[handling_case.pk, e.pk])
    assert as_user(cast.handler).post(url, {"result": "x"}).status_code == 403
    assert as_user(cast.supervisor).post(url, {"result": "市政府牵头协调,已化解"}).status_code == 302
    e.refresh_from_db()
    assert e.result == "市政府牵头协调,已化解" and e.result_at
    assert AuditEntry.objects.filter(action__in=["supervision.escalate", "supervision.escalate_result"]).count() == 2


def test_escalation_must_go_up(cast, handling_case):
    kw = dict(conference="联席会议", decided_on=dt.date(2026, 6, 1), reason="理由")
    with pytest.raises(WorkflowError, match="更高一级"):
        sv.escalate(cast.supervisor, handling_case, to_organ=cast.labour, **kw)  # same level, not above
    with pytest.raises(WorkflowError, match="更高一级"):
        sv.escalate(cast.supervisor, handling_case, to_organ=cast.district_bureau, **kw)  # below
    with pytest.raises(WorkflowError, match="提级理由"):
        sv.escalate(cast.supervisor, handling_case, to_organ=cast.prov_gov, **{**kw, "reason": ""})
    assert not Escalation.objects.exists()
    sv.escalate(cast.supervisor, handling_case, to_organ=cast.prov_gov, **kw)  # a higher level
    assert Escalation.objects.get().to_level == "province"


@pytest.mark.parametrize("who", ["handler", "registrar", "head"])
def test_only_supervisors_and_leaders_record_escalations(cast, handling_case, as_user, who):
    response = as_user(getattr(cast, who)).post(reverse("supervision:escalate", args=[handling_case.pk]), {
        "conference": "会议", "decided_on": "2026-06-01", "to_organ": cast.city_gov.pk, "reason": "理由"})
    assert response.status_code == 403 and "提级调度须由督查员或领导" in response.content.decode()
    assert not Escalation.objects.exists()
