"""The lifecycle of a case (workflow.py): every transition of TRANSITIONS, allowed and refused.

Each test names the article of the 《信访工作条例》 it protects. A refusal must raise WorkflowError
with a Chinese message and change nothing: `refuse()` snapshots every table a service writes
(cases, petitioners, organ links, events, deadlines, documents, counters, the audit chain) before
the call and compares after it.

Time is frozen at 2026-06-01 09:00 (a Monday). The dates that follow from it:
route/accept limits 15 d → 06-16; objection 5 working days → 06-08; route ⑥ 60 d → 07-31;
evaluation and 复查/复核 request windows 30 d → 07-01; 复查/复核 opinions 30 d → 07-01.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from tests.conftest import NOW, TZ, VALID_ID, petition_data
from xinfang.audit import log
from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.signals import cases_created
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import (
    Attachment, Case, CaseCounter, CaseOrgan, Category, Channel, Closure, Event, Petitioner, RouteKind, State,
)
from xinfang.cases.workflow import PetitionerData, RegistrationError
from xinfang.deadlines.models import CalendarYear, Deadline
from xinfang.documents.models import DocKind, Document, DocumentCounter
from xinfang.orgs.models import Level, Organ, OrganKind, Role, User

D = dt.date
CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- helpers


def snapshot() -> dict:
    """Everything a service may write, so a refusal can be shown to have changed nothing."""
    return {
        "cases": list(Case.objects.order_by("pk").values()),
        "petitioners": list(Petitioner.objects.order_by("pk").values()),
        "links": list(CaseOrgan.objects.order_by("pk").values_list("case_id", "organ_id")),
        "events": list(Event.objects.order_by("pk").values_list("pk", "case_id", "action", "to_state")),
        "deadlines": list(Deadline.objects.order_by("pk").values()),
        "documents": list(Document.objects.order_by("pk").values_list("pk", "kind", "number")),
        "doc_counters": list(DocumentCounter.objects.order_by("pk").values_list("organ_id", "kind", "year", "last")),
        "case_counters": list(CaseCounter.objects.order_by("pk").values_list("bureau_id", "year", "last")),
        "attachments": list(Attachment.objects.order_by("pk").values_list("pk", flat=True)),
        "audit": list(AuditEntry.objects.order_by("seq").values_list("seq", "hash")),
    }


def refuse(fn: Callable, *args, match: str | None = None, field=..., **kwargs) -> WorkflowError:
    """Call a service that must refuse: WorkflowError, a Chinese message, nothing changed."""
    before = snapshot()
    with pytest.raises(WorkflowError) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert CJK.search(exc.message), exc.message
    if match is not None:
        assert match in exc.message, exc.message
    if field is not ...:
        assert exc.field == field
    assert snapshot() == before, "a refused action changed the database"
    return exc


def open_deadlines(case: Case) -> dict[str, dt.date]:
    return dict(case.deadlines.filter(is_open=True).values_list("rule_id", "due_on"))


def actions(case: Case) -> list[str]:
    return list(case.events.order_by("pk").values_list("action", flat=True))


def audit_actions(case: Case) -> list[str]:
    return list(AuditEntry.objects.filter(object_type="cases.case", object_id=str(case.pk))
                .order_by("seq").values_list("action", flat=True))


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def pet(**over) -> PetitionerData:
    data = dict(name="刘市民", id_number=VALID_ID, phone="13800138000", address="东湖区幸福里3栋")
    data.update(over)
    return PetitionerData(**data)


@pytest.fixture
def crew(cast):
    """Users the standard cast lacks: staff at the right organ without the right role."""
    def user(username, organ, *roles):
        return User.objects.create_user(username, password="Xf-test-pass-2026", organ=organ, roles=list(roles),
                                        full_name=username)
    cast.housing_head_only = user("housing_head_only", cast.housing, Role.HEAD)
    cast.prov_leader = user("prov_leader", cast.prov_gov, Role.LEADER)
    return cast


# --------------------------------------------------------------------------- the transition table


@dataclass
class Act:
    """How to perform one transition correctly, and who/when it must be refused."""

    build: Callable  # (make_case, cast, travel) -> a case in a source state
    actor: str
    call: Callable  # (who, case, cast) -> case
    to_state: str
    wrong_role: str
    wrong_organ: str
    wrong_state: str  # a make_case() state outside the transition's sources


def _state(name):
    return lambda make_case, cast, travel: make_case(name)


def _returned(make_case, cast, travel):
    return workflow.object_case(cast.handler, make_case("pending"), reason="不属于本局职权范围")


def _closable(make_case, cast, travel):
    case = make_case("replied")
    travel(D(2026, 7, 2))  # the 复查 request window ended on 07-01
    return case


ACTS = {
    "route": Act(_state("registered"), "registrar",
                 lambda who, case, c: workflow.route_case(who, case, kind=RouteKind.FORWARD, organ=c.housing),
                 State.PENDING, "supervisor", "other", "pending"),
    "inform": Act(_state("registered"), "registrar",
                  lambda who, case, c: workflow.inform_case(who, case, channel="行政复议", reason="属于行政复议范围"),
                  State.CLOSED, "supervisor", "other", "pending"),
    "not_accept": Act(_state("registered"), "registrar",
                      lambda who, case, c: workflow.not_accept_case(who, case, reason="不属于信访事项"),
                      State.CLOSED, "supervisor", "other", "handling"),
    "not_accept@pending": Act(_state("pending"), "handler",
                              lambda who, case, c: workflow.not_accept_case(who, case, reason="不属于信访事项"),
                              State.CLOSED, "housing_head_only", "registrar", "handling"),
    "accept": Act(_state("pending"), "handler",
                  lambda who, case, c: workflow.accept_case(who, case, route="r6"),
                  State.HANDLING, "housing_head_only", "other", "registered"),
    "object": Act(_state("pending"), "handler",
                  lambda who, case, c: workflow.object_case(who, case, reason="不属于本局职权范围"),
                  State.RETURNED, "housing_head_only", "other", "handling"),
    "decide_objection": Act(_returned, "registrar",
                            lambda who, case, c: workflow.decide_objection(who, case, agree=True),
                            State.REGISTERED, "supervisor", "other", "pending"),
    "extend": Act(_state("handling"), "head",
                  lambda who, case, c: workflow.extend_deadline(who, case, days=10, reason="需要现场勘验"),
                  State.HANDLING, "handler", "other", "replied"),
    "reply": Act(_state("handling"), "handler",
                 lambda who, case, c: workflow.reply_case(who, case, outcome="support", opinion="责成物业维修", facts="查明事实", basis="法律依据"),
                 State.REPLIED, "housing_head_only", "other", "pending"),
    "evaluate": Act(_state("replied"), "handler",
                    lambda who, case, c: workflow.evaluate_case(who, case, organ_satisfaction="satisfied"),
                    State.REPLIED, "supervisor", "other", "handling"),
    "request_review": Act(_state("replied"), "reviewer",
                          lambda who, case, c: workflow.request_review(who, case, reason="对处理意见不服"),
                          State.REVIEW, "leader", "re_reviewer", "handling"),
    "review": Act(_state("review"), "reviewer",
                  lambda who, case, c: workflow.issue_review_opinion(who, case, outcome="uphold", opinion="维持"),
                  State.REVIEWED, "leader", "handler", "replied"),
    "request_re_review": Act(_state("reviewed"), "re_reviewer",
                             lambda who, case, c: workflow.request_re_review(who, case, reason="对复查意见不服"),
                             State.RE_REVIEW, "prov_leader", "reviewer", "review"),
    "hearing": Act(_state("re_review"), "re_reviewer",
                   lambda who, case, c: workflow.record_hearing(who, case, days=5, note="组织听证"),
                   State.RE_REVIEW, "prov_leader", "reviewer", "reviewed"),
    "re_review": Act(_state("re_review"), "re_reviewer",
                     lambda who, case, c: workflow.issue_re_review_opinion(who, case, outcome="uphold", opinion="维持"),
                     State.CLOSED, "prov_leader", "reviewer", "reviewed"),
    "close": Act(_closable, "handler", lambda who, case, c: workflow.close_case(who, case),
                 State.CLOSED, "supervisor", "other", "handling"),
}


def _ids(names):
    return [f"{n}-{workflow.TRANSITIONS[n.split('@')[0]].article or 'local-setting'}" for n in names]


def test_every_transition_of_the_table_is_exercised_here():
    """register has its own tests below; every other transition is in ACTS."""
    assert {n.split("@")[0] for n in ACTS} == set(workflow.TRANSITIONS) - {"register"}


def test_the_table_names_its_articles_and_chinese_labels():
    for t in workflow.TRANSITIONS.values():
        assert CJK.search(str(t.label))
        assert t.roles and t.where in {"holder", "superior", "involved"}
        if t.name != "evaluate":  # the evaluation window is a local setting, not an article
            assert t.article.startswith("第"), t.name


@pytest.mark.parametrize("name", list(ACTS), ids=_ids(ACTS))
def test_transition_allowed_for_the_right_role_at_the_right_organ(name, crew, make_case, travel):
    act = ACTS[name]
    case = act.build(make_case, crew, travel)
    events_before, audit_before, state_before = case.events.count(), len(audit_actions(case)), case.state
    case = act.call(getattr(crew, act.actor), case, crew)
    case = fresh(case)
    assert case.state == act.to_state
    assert case.events.count() == events_before + 1
    event = case.events.order_by("-pk").first()
    action = name.split("@")[0]
    assert (event.action, event.from_state, event.to_state) == (action, state_before, act.to_state)
    assert event.actor == getattr(crew, act.actor) and CJK.search(event.label)
    assert audit_actions(case)[audit_before:] == [f"case.{action}"]


@pytest.mark.parametrize("name", list(ACTS), ids=_ids(ACTS))
def test_transition_refused_for_the_wrong_role(name, crew, make_case, travel):
    act = ACTS[name]
    case = act.build(make_case, crew, travel)
    refuse(act.call, getattr(crew, act.wrong_role), case, crew, match="须由")


@pytest.mark.parametrize("name", list(ACTS), ids=_ids(ACTS))
def test_transition_refused_at_the_wrong_organ(name, crew, make_case, travel):
    act = ACTS[name]
    case = act.build(make_case, crew, travel)
    refuse(act.call, getattr(crew, act.wrong_organ), case, crew, match="不属于本机关的办理权限")


@pytest.mark.parametrize("name", list(ACTS), ids=_ids(ACTS))
def test_transition_refused_in_the_wrong_state(name, crew, make_case, travel):
    act = ACTS[name]
    case = make_case(act.wrong_state)
    refuse(act.call, getattr(crew, act.actor), case, crew, match="当前状态")


@pytest.mark.parametrize("name", ["route", "accept", "reply"])
def test_staff_without_an_organ_cannot_act(name, crew, make_case, travel):
    act = ACTS[name]
    case = act.build(make_case, crew, travel)
    for who in (crew.citizen, crew.admin):
        refuse(act.call, who, case, crew, match="机关工作人员")


# --------------------------------------------------------------------------- register (第17、19、20、21条)


def test_register_at_the_bureau_waits_to_be_routed_within_15_days_art22(cast):
    case = workflow.register_case(cast.registrar, petition_data(), [pet()])
    assert case.number == "JZXF-2026-000001" and (case.year, case.seq) == (2026, 1)
    assert case.state == State.REGISTERED and case.current_organ == cast.bureau and case.bureau == cast.bureau
    assert open_deadlines(case) == {"route": D(2026, 6, 16)}
    assert case.due_on == D(2026, 6, 16) and case.due_warn_on == D(2026, 6, 14)
    assert list(case.organ_links.values_list("organ", flat=True)) == [cast.bureau.pk]
    assert list(case.petitioners.values_list("name", "id_number", "phone")) == [("刘市民", VALID_ID, "13800138000")]
    assert actions(case) == ["register"] and audit_actions(case) == ["case.register"]
    assert case.documents.count() == 0


def test_register_at_an_organ_waits_for_acceptance_within_15_days_art23(cast):
    """A petition received directly by an organ: written notice within 15 days (第23条第2款)."""
    case = workflow.register_case(cast.other, petition_data(), [pet()])
    assert case.number == "JZRS-2026-000001"
    assert case.state == State.PENDING and case.current_organ == cast.labour
    # No objection window: an organ cannot "return" what nobody sent it.
    assert open_deadlines(case) == {"accept": D(2026, 6, 16)}


def test_limit_counts_from_the_day_of_receipt_not_of_registration_art22(cast):
    received = dt.datetime(2026, 5, 28, 16, 0, tzinfo=TZ)
    case = workflow.register_case(cast.registrar, petition_data(received_at=received), [pet()])
    assert open_deadlines(case) == {"route": D(2026, 6, 12)}


def test_numbers_run_per_bureau_and_year_of_receipt_art21(cast):
    first = workflow.register_case(cast.registrar, petition_data(), [pet()])
    second = workflow.register_case(cast.registrar, petition_data(), [pet()])
    district = workflow.register_case(cast.district_registrar, petition_data(), [pet()])
    last_year = workflow.register_case(
        cast.registrar, petition_data(received_at=dt.datetime(2025, 12, 31, 23, 30, tzinfo=TZ)), [pet()])
    assert [c.number for c in (first, second, district, last_year)] == [
        "JZXF-2026-000001", "JZXF-2026-000002", "DHXF-2026-000001", "JZXF-2025-000001"]


def test_register_keeps_flags_representatives_and_attachments_art20(cast):
    reps = [pet(name=f"代表{i}", id_number="", is_representative=True) for i in range(5)]
    case = workflow.register_case(
        cast.registrar,
        petition_data(channel=Channel.VISIT, head_count=40, group_visit=True, major_urgent=True, law_related=False),
        reps + [pet(name="群众甲", id_number="")],
        attachments=[("现场照片.jpg", ContentFile(b"jpeg-bytes", name="photo.jpg"))],
    )
    assert case.head_count == 40 and case.group_visit and case.major_urgent and not case.skip_level
    assert case.petitioners.filter(is_representative=True).count() == 5
    (attachment,) = case.attachments.all()
    assert (attachment.name, attachment.size, attachment.uploaded_by) == ("现场照片.jpg", 10, cast.registrar)


def test_a_naive_received_time_is_read_in_the_local_time_zone_art21(cast):
    case = workflow.register_case(cast.registrar, petition_data(received_at=dt.datetime(2026, 6, 1, 8, 0)), [pet()])
    assert fresh(case).received_at == dt.datetime(2026, 6, 1, 8, 0, tzinfo=TZ)


def registration_refused(actor, data, petitioners, **kw) -> dict[str, list[str]]:
    exc = refuse(workflow.register_case, actor, data, petitioners, **kw)
    assert isinstance(exc, RegistrationError)
    assert CaseCounter.objects.count() == 0  # no number was taken
    return exc.errors


def test_registration_with_a_bad_id_checksum_is_refused_art19(cast):
    errors = registration_refused(cast.registrar, petition_data(), [pet(id_number="110101199003074470")])
    assert list(errors) == ["petitioners"] and "校验位" in errors["petitioners"][0]


def test_registration_with_a_bad_birth_date_is_refused_art19(cast):
    errors = registration_refused(cast.registrar, petition_data(head_count=2),
                                  [pet(), pet(name="李四", id_number="110101199013070015")])
    assert list(errors) == ["petitioners"] and errors["petitioners"][0].startswith("第2名信访人")
    assert "出生日期" in errors["petitioners"][0]


def test_registration_with_a_bad_phone_is_refused_art19(cast):
    errors = registration_refused(cast.registrar, petition_data(), [pet(phone="12345")])
    assert "联系电话" in errors["petitioners"][0]


def test_registration_with_missing_fields_names_each_field_art19(cast):
    data = petition_data(channel=None, category="", title=" ", content="", received_at=None)
    errors = registration_refused(cast.registrar, data, [])
    assert set(errors) == {"channel", "category", "title", "content", "received_at", "petitioners"}
    assert all(CJK.search(m) for msgs in errors.values() for m in msgs)


def test_a_petitioner_without_a_name_is_refused_art19(cast):
    errors = registration_refused(cast.registrar, petition_data(), [pet(name="  ")])
    assert "姓名" in errors["petitioners"][0]


def test_a_sixth_representative_is_refused_art20(cast):
    reps = [pet(name=f"代表{i}", id_number="", is_representative=True) for i in range(6)]
    errors = registration_refused(cast.registrar, petition_data(channel=Channel.VISIT, head_count=50), reps)
    assert list(errors) == ["petitioners"] and "不超过5人" in errors["petitioners"][0]


def test_a_received_time_in_the_future_is_refused_art21(cast):
    errors = registration_refused(cast.registrar, petition_data(received_at=NOW + dt.timedelta(days=1)), [pet()])
    assert list(errors) == ["received_at"]
    # A clock a few minutes apart between the registrar's PC and the server is tolerated.
    assert workflow.register_case(cast.registrar, petition_data(received_at=NOW + dt.timedelta(minutes=3)), [pet()])


def test_oversize_title_and_content_are_refused(cast):
    data = petition_data(title="标" * 201, content="字" * (workflow.MAX_CONTENT + 1))
    errors = registration_refused(cast.registrar, data, [pet()])
    assert set(errors) == {"title", "content"}
    assert workflow.register_case(cast.registrar, petition_data(title="标" * 200, content="字" * workflow.MAX_CONTENT), [pet()])


def test_head_count_below_the_petitioners_is_refused_art20(cast):
    errors = registration_refused(cast.registrar, petition_data(head_count=1), [pet(), pet(name="李四", id_number="")])
    assert list(errors) == ["head_count"]


def test_the_accused_organ_cannot_register_a_report_against_itself_art30(cast):
    data = petition_data(category=Category.REPORT, accused_organ=cast.urban)
    errors = registration_refused(cast.accused, data, [pet()])
    assert list(errors) == ["accused_organ"]


@pytest.mark.parametrize("who", ["handler", "supervisor", "citizen"])
def test_only_a_registrar_with_an_organ_may_register_art21(cast, who):
    exc = refuse(workflow.register_case, getattr(cast, who), petition_data(), [pet()], match="登记员")
    assert not isinstance(exc, RegistrationError)


def test_a_refusal_inside_the_transaction_rolls_the_number_back_art21(cast):
    """The counter row is written inside the registration's transaction: a refusal found after the
    number was taken (here by a `cases_created` receiver, which runs inside that transaction) rolls
    the counter and the case back, so no number is skipped."""
    def refuse_screening(sender, case_ids, source, **kwargs):
        raise WorkflowError("筛查未通过")

    cases_created.connect(refuse_screening)
    try:
        refuse(workflow.register_case, cast.registrar, petition_data(), [pet()], match="筛查未通过")
    finally:
        cases_created.disconnect(refuse_screening)
    assert CaseCounter.objects.count() == 0 and not Case.objects.exists()
    assert workflow.register_case(cast.registrar, petition_data(), [pet()]).number == "JZXF-2026-000001"


def test_a_refused_registration_takes_no_number_art21(cast):
    registration_refused(cast.registrar, petition_data(title=""), [pet()])
    assert workflow.register_case(cast.registrar, petition_data(), [pet()]).number == "JZXF-2026-000001"


# --------------------------------------------------------------------------- route (第22、28、30条)


def test_forward_sends_the_case_to_the_organ_with_acceptance_and_objection_limits_art22_art23(cast, make_case):
    case = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.FORWARD, organ=cast.housing, note="请依法处理")
    assert case.state == State.PENDING and case.current_organ == cast.housing and case.routed_by == cast.bureau
    assert case.route_kind == RouteKind.FORWARD and not case.report_required and case.assigned_due is None
    assert open_deadlines(case) == {"accept": D(2026, 6, 16), "object": D(2026, 6, 8)}
    assert case.deadlines.get(rule_id="route").met_at is not None  # the bureau met its 15-day duty
    assert set(case.organ_links.values_list("organ", flat=True)) == {cast.bureau.pk, cast.housing.pk}
    (doc,) = case.documents.all()
    assert (doc.kind, doc.organ, doc.addressee, doc.for_petitioner) == (DocKind.FORWARD, cast.bureau, cast.housing.name, False)
    assert doc.number == "江信转〔2026〕1号"


def test_assign_needs_a_future_deadline_and_requires_a_completion_report_art22(cast, make_case):
    case = make_case()
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.ASSIGN, organ=cast.housing,
           match="指定办结期限", field="assigned_due")
    for past in (D(2026, 6, 1), D(2026, 5, 20)):
        refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.ASSIGN, organ=cast.housing,
               assigned_due=past, field="assigned_due")
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.ASSIGN, organ=cast.housing, assigned_due=D(2026, 6, 30))
    assert case.report_required and case.assigned_due == D(2026, 6, 30) and case.state == State.PENDING
    assert case.documents.get().kind == DocKind.ASSIGN


def test_a_deadline_given_with_a_forward_is_ignored_art22(cast, make_case):
    case = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.FORWARD, organ=cast.housing,
                               assigned_due=D(2026, 6, 30))
    assert case.assigned_due is None and not case.report_required


def test_litigation_separation_goes_only_to_legal_organs_art22_art28(cast, make_case):
    case = make_case(law_related=True)
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.LEGAL, organ=cast.housing, match="政法", field="organ")
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.LEGAL, organ=cast.legal)
    assert case.current_organ == cast.legal and case.state == State.PENDING


def test_a_law_related_case_must_go_the_legal_route_art22_art28(cast, make_case):
    case = make_case(law_related=True)
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing, match="诉访分离", field="kind")
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.ASSIGN, organ=cast.housing,
           assigned_due=D(2026, 6, 30), field="kind")
    # Another petition bureau may pass it on (it will apply the same rule).
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.district_bureau)
    assert case.state == State.REGISTERED


def test_reports_to_discipline_go_only_to_discipline_organs_art22_art30(cast, make_case):
    case = make_case(category=Category.REPORT, accused_organ=cast.urban)
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.DISCIPLINE, organ=cast.housing, field="organ")
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.DISCIPLINE, organ=cast.discipline)
    assert case.current_organ == cast.discipline


def test_a_report_never_goes_to_the_accused_organ_or_below_it_art30(cast, make_case):
    sub_unit = Organ.objects.create(name="江州市城管执法支队", short_name="江城执", code="JZCGZD", level=Level.CITY,
                                    kind=OrganKind.FUNCTIONAL, region=cast.city, parent=cast.urban)
    case = make_case(category=Category.REPORT, accused_organ=cast.urban)
    for organ in (cast.urban, sub_unit):
        for kind in (RouteKind.FORWARD, RouteKind.ASSIGN):
            refuse(workflow.route_case, cast.registrar, case, kind=kind, organ=organ, assigned_due=D(2026, 6, 30),
                   match="第30条", field="organ")
    # A report about something else may go to the same organ.
    other = make_case(category=Category.REPORT, accused_organ=cast.housing)
    assert workflow.route_case(cast.registrar, other, kind=RouteKind.FORWARD, organ=cast.urban).current_organ == cast.urban


def test_forwarding_to_another_bureau_keeps_the_case_registered_there_art22(cast, make_case):
    case = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.FORWARD, organ=cast.district_bureau)
    assert case.state == State.REGISTERED and case.current_organ == cast.district_bureau
    assert open_deadlines(case) == {"route": D(2026, 6, 16)}  # the district bureau's own 15 days
    assert case.deadlines.filter(rule_id="route", organ=cast.bureau, is_open=False).exists()
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing, match="不属于本机关")
    case = workflow.route_case(cast.district_registrar, case, kind=RouteKind.FORWARD, organ=cast.housing)
    assert case.state == State.PENDING and case.routed_by == cast.district_bureau


def test_route_refuses_its_own_organ_and_inactive_organs_art22(cast, make_case):
    case = make_case()
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.bureau, field="organ")
    Organ.objects.filter(pk=cast.labour.pk).update(is_active=False)
    cast.labour.refresh_from_db()
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.labour, field="organ")
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=None, field="organ")
    refuse(workflow.route_case, cast.registrar, case, kind="teleport", organ=cast.housing, field="kind")


def test_a_level_skipping_visit_is_not_routed_under_the_default_policy_art20(cast, make_case):
    case = make_case(channel=Channel.VISIT, skip_level=True)
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing, match="第20条")
    # The petitioner is guided to the competent level instead.
    case = workflow.inform_case(cast.registrar, case, channel="向东湖区逐级走访", reason="越级走访,引导逐级提出")
    assert case.closure == Closure.INFORMED


def test_level_skipping_is_about_visits_and_is_a_setting_art20(cast, make_case, settings):
    letter = make_case(channel=Channel.LETTER, skip_level=True)
    assert workflow.route_case(cast.registrar, letter, kind=RouteKind.FORWARD, organ=cast.housing).state == State.PENDING
    settings.XINFANG_SKIP_LEVEL_POLICY = "accept"
    visit = make_case(channel=Channel.VISIT, skip_level=True)
    assert workflow.route_case(cast.registrar, visit, kind=RouteKind.FORWARD, organ=cast.housing).state == State.PENDING


def test_a_level_skipping_visit_is_not_accepted_at_an_organ_either_art20(cast):
    case = workflow.register_case(cast.other, petition_data(channel=Channel.VISIT, skip_level=True), [pet()])
    refuse(workflow.accept_case, cast.other, case, route="r6", match="第20条")
    assert workflow.not_accept_case(cast.other, case, reason="越级走访,引导逐级提出").closure == Closure.NOT_ACCEPTED


def test_routing_late_is_allowed_but_the_case_was_overdue_art22(cast, make_case, travel):
    """The 15 days are a duty of the bureau, not a window that closes: a late route is recorded
    late (超期), never blocked."""
    case = make_case()
    travel(D(2026, 6, 17))
    assert fresh(case).grade == "overdue"
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing)
    assert case.deadlines.get(rule_id="route").met_late


# --------------------------------------------------------------------------- same facts (第19、36条)


def test_after_re_review_the_same_facts_are_not_accepted_again_art36(cast, make_case):
    earlier = make_case("closed")
    assert earlier.closure == Closure.RE_REVIEWED
    case = make_case(related_case=earlier, same_facts=True)
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing, match="第36条")
    case = workflow.not_accept_case(cast.registrar, case, reason="同一事实和理由已复核终结")
    assert case.state == State.CLOSED and case.closure == Closure.NOT_AGAIN and open_deadlines(case) == {}
    (doc,) = case.documents.all()
    assert doc.kind == DocKind.NOT_AGAIN and doc.fields["related"] == earlier.number and doc.for_petitioner


def test_after_re_review_an_organ_does_not_accept_the_same_facts_either_art36(cast, make_case):
    earlier = make_case("closed")
    case = workflow.register_case(cast.other, petition_data(related_case=earlier, same_facts=True), [pet()])
    refuse(workflow.accept_case, cast.other, case, route="r6", match="第36条")


def test_a_repeat_linked_to_an_earlier_refused_repeat_is_still_not_accepted_art36(cast, make_case):
    """The registrar links the third petition to the second (refused as 不再受理), not to the
    re-reviewed original: the chain is followed back to the 复核 decision."""
    original = make_case("closed")
    second = workflow.not_accept_case(cast.registrar, make_case(related_case=original, same_facts=True), reason="不再受理")
    third = make_case(related_case=second, same_facts=True)
    exc = refuse(workflow.route_case, cast.registrar, third, kind=RouteKind.FORWARD, organ=cast.housing, match="第36条")
    assert original.number in exc.message
    third = workflow.not_accept_case(cast.registrar, third, reason="同一事实和理由已复核终结")
    assert third.closure == Closure.NOT_AGAIN and third.documents.get().fields["related"] == original.number


def test_new_facts_after_re_review_are_handled_normally_art36(cast, make_case):
    earlier = make_case("closed")
    case = make_case(related_case=earlier, same_facts=False)
    assert workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing).state == State.PENDING


def test_the_same_facts_while_the_earlier_case_is_handled_are_not_accepted_art19(cast, make_case):
    earlier = make_case("handling")
    case = make_case(related_case=earlier, same_facts=True)
    refuse(workflow.route_case, cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing, match="第19条")
    case = workflow.not_accept_case(cast.registrar, case, reason="原事项正在办理期限内")
    assert case.closure == Closure.NOT_ACCEPTED and case.documents.get().kind == DocKind.NOT_ACCEPTED


def test_the_same_facts_after_an_ordinary_closure_may_be_routed_art19(cast, make_case, travel):
    earlier = make_case("replied")
    travel(D(2026, 7, 2))
    workflow.close_case(cast.handler, earlier)
    case = make_case(related_case=earlier, same_facts=True)
    assert workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing).state == State.PENDING


# --------------------------------------------------------------------------- inform / not accept (第22、23条)


def test_inform_tells_the_legal_channel_and_closes_art22(cast, make_case):
    case = workflow.inform_case(cast.registrar, make_case(), channel="劳动仲裁", reason="属于劳动争议")
    assert case.state == State.CLOSED and case.closure == Closure.INFORMED and case.closed_at == NOW
    assert open_deadlines(case) == {} and case.due_on is None
    doc = case.documents.get()
    assert doc.kind == DocKind.INFORM and doc.fields["channel"] == "劳动仲裁"


@pytest.mark.parametrize("channel, reason", [("", "理由"), ("劳动仲裁", " ")])
def test_inform_needs_the_channel_and_the_reason_art22(cast, make_case, channel, reason):
    refuse(workflow.inform_case, cast.registrar, make_case(), channel=channel, reason=reason)


def test_not_accept_needs_a_reason_and_issues_a_notice_art23(cast, make_case):
    case = make_case("pending")
    refuse(workflow.not_accept_case, cast.handler, case, reason=" ", field="reason")
    case = workflow.not_accept_case(cast.handler, case, reason="不属于信访事项")
    assert case.closure == Closure.NOT_ACCEPTED and open_deadlines(case) == {}
    doc = case.documents.exclude(kind=DocKind.FORWARD).get()
    assert (doc.kind, doc.organ) == (DocKind.NOT_ACCEPTED, cast.housing)


# --------------------------------------------------------------------------- accept (第23、29–31、34条)


def test_accept_route_six_notifies_and_starts_60_days_art23_art34(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6")
    assert case.state == State.HANDLING and case.handling_organ == cast.housing and case.handling_route == "r6"
    assert open_deadlines(case) == {"handle": D(2026, 7, 31)} and case.due_on == D(2026, 7, 31)
    assert set(case.deadlines.filter(is_open=False).values_list("rule_id", flat=True)) == {"route", "accept", "object"}
    doc = case.documents.get(kind=DocKind.ACCEPTANCE)
    assert doc.organ == cast.housing and doc.for_petitioner and doc.fields["due"] == "2026-07-31"


def test_route_five_also_has_60_days_art34(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r5")
    assert open_deadlines(case) == {"handle": D(2026, 7, 31)}


@pytest.mark.parametrize("route", ["r1", "r2", "r3", "r4"])
def test_legal_procedure_routes_have_no_petition_limit_art31(cast, make_case, route):
    case = workflow.accept_case(cast.handler, make_case("pending"), route=route)
    assert case.state == State.HANDLING and open_deadlines(case) == {} and case.due_on is None


@pytest.mark.parametrize("category, good, bad", [
    (Category.SUGGESTION, "suggestion", "r6"),
    (Category.REPORT, "report", "suggestion"),
    (Category.CLAIM, "r6", "report"),
])
def test_the_route_must_match_the_category_art29_art30_art31(cast, make_case, category, good, bad):
    case = make_case("pending", category=category)
    refuse(workflow.accept_case, cast.handler, case, route=bad, field="route")
    assert workflow.accept_case(cast.handler, case, route=good).handling_route == good


def test_an_assigned_case_runs_to_the_assigners_deadline_art22(cast, make_case):
    case = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.ASSIGN, organ=cast.housing,
                               assigned_due=D(2026, 6, 30))
    case = workflow.accept_case(cast.handler, case, route="r6")
    assert open_deadlines(case) == {"assign": D(2026, 6, 30)}
    assert case.deadlines.get(rule_id="assign").fixed_due == D(2026, 6, 30)


# --------------------------------------------------------------------------- object (第23条第3款)


def test_objection_within_5_working_days_returns_the_file_to_the_sender_art23(cast, make_case, travel):
    case = make_case("pending")
    travel(D(2026, 6, 8))  # the fifth working day after 06-01
    case = workflow.object_case(cast.handler, case, reason="属于区级事权")
    assert case.state == State.RETURNED and case.current_organ == cast.bureau and case.returned_from == cast.housing
    assert open_deadlines(case) == {} and case.due_on is None
    event = case.events.order_by("-pk").first()
    assert (event.target_organ, event.note) == (cast.bureau, "属于区级事权")


def test_objection_after_5_working_days_is_refused_art23(cast, make_case, travel):
    case = make_case("pending")
    travel(D(2026, 6, 9))
    refuse(workflow.object_case, cast.handler, case, reason="属于区级事权", match="5个工作日")
    assert workflow.accept_case(cast.handler, case, route="r6").state == State.HANDLING


def test_objection_window_counts_the_tiaoxiu_saturday_art23(cast, make_case, travel):
    """Routed on 2026-10-08: 10-09 (Fri), 10-10 (调休 Saturday), 10-12, 10-13, 10-14."""
    travel(D(2026, 10, 8))
    case = make_case("pending")
    assert open_deadlines(case)["object"] == D(2026, 10, 14)
    late = make_case("pending")
    travel(D(2026, 10, 14))
    assert workflow.object_case(cast.handler, case, reason="不属于本局职权").state == State.RETURNED
    travel(D(2026, 10, 15))
    refuse(workflow.object_case, cast.handler, late, reason="不属于本局职权", match="5个工作日")


def test_objection_needs_a_reason_art23(cast, make_case):
    refuse(workflow.object_case, cast.handler, make_case("pending"), reason="", field="reason")


def test_a_case_received_directly_cannot_be_returned_art23(cast):
    case = workflow.register_case(cast.other, petition_data(), [pet()])
    refuse(workflow.object_case, cast.other, case, reason="不属于本局", match="直接收到")


def test_the_sender_agrees_and_routes_again_within_15_days_art23(cast, make_case, travel):
    case = make_case("pending")
    travel(D(2026, 6, 4))
    case = workflow.object_case(cast.handler, case, reason="属于人社局职权")
    case = workflow.decide_objection(cast.registrar, case, agree=True)
    assert case.state == State.REGISTERED and case.current_organ == cast.bureau
    # 06-04 + 15 = 06-19, the Dragon Boat Festival; the limit moves to Monday 06-22.
    assert open_deadlines(case) == {"route": D(2026, 6, 22)} and case.due_on == D(2026, 6, 22)
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.labour)
    assert case.current_organ == cast.labour and case.returned_from is None
    assert open_deadlines(case)["object"] == D(2026, 6, 11)  # a fresh window for the new organ


def test_the_sender_disagrees_and_the_organ_must_accept_art23(cast, make_case, travel):
    case = workflow.object_case(cast.handler, make_case("pending"), reason="属于区级事权")
    refuse(workflow.decide_objection, cast.registrar, case, agree=False, note="", field="note")
    travel(D(2026, 6, 3))
    case = workflow.decide_objection(cast.registrar, case, agree=False, note="属于你局职责")
    assert case.state == State.PENDING and case.current_organ == cast.housing
    assert open_deadlines(case) == {"accept": D(2026, 6, 18)}
    # The organ has had its one objection.
    refuse(workflow.object_case, cast.handler, case, reason="仍然认为不属于本局")
    assert workflow.accept_case(cast.handler, case, route="r6").state == State.HANDLING


# --------------------------------------------------------------------------- extend (第34条)


def test_the_head_extends_once_and_the_due_date_moves_art34(cast, make_case):
    case = make_case("handling")
    case = workflow.extend_deadline(cast.head, case, days=10, reason="需要委托鉴定")
    assert case.extended and open_deadlines(case) == {"handle": D(2026, 8, 10)} and case.due_on == D(2026, 8, 10)
    doc = case.documents.get(kind=DocKind.EXTENSION)
    assert doc.for_petitioner and doc.fields["reason"] == "需要委托鉴定"  # the reason is told to the petitioner
    assert (doc.fields["old_due"], doc.fields["new_due"]) == ("2026-07-31", "2026-08-10")
    refuse(workflow.extend_deadline, cast.head, case, days=5, reason="再次延期", match="只能延长一次")


def test_an_extension_of_30_days_is_the_most_art34(cast, make_case):
    case = make_case("handling")
    for days in (0, 31, -1, "10", 10.0):
        refuse(workflow.extend_deadline, cast.head, case, days=days, reason="需要鉴定", field="days")
    case = workflow.extend_deadline(cast.head, case, days=30, reason="需要鉴定")
    # 06-01 + 90 = 08-30, a Sunday → Monday 08-31.
    assert open_deadlines(case) == {"handle": D(2026, 8, 31)}


def test_an_extension_needs_a_reason_art34(cast, make_case):
    refuse(workflow.extend_deadline, cast.head, make_case("handling"), days=10, reason=" ", field="reason")


def test_a_case_without_a_limit_needs_no_extension_art34(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r1")
    refuse(workflow.extend_deadline, cast.head, case, days=10, reason="需要鉴定", match="无需延期")


def test_an_assigned_deadline_is_extended_from_the_assigners_date_art22_art34(cast, make_case):
    case = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.ASSIGN, organ=cast.housing,
                               assigned_due=D(2026, 6, 30))
    case = workflow.accept_case(cast.handler, case, route="r6")
    case = workflow.extend_deadline(cast.head, case, days=5, reason="需要协调")
    # 06-30 + 5 = 07-05, a Sunday → Monday 07-06.
    assert open_deadlines(case) == {"assign": D(2026, 7, 6)} and case.due_on == D(2026, 7, 6)


# --------------------------------------------------------------------------- reply (第22、29、32条)


@pytest.mark.parametrize("outcome", ["support", "explain", "reject"])
def test_a_claim_reply_is_a_handling_opinion_with_an_art32_outcome(cast, make_case, outcome):
    case = workflow.reply_case(cast.handler, make_case("handling"), outcome=outcome, opinion="经调查核实……",
                               facts="电梯故障属实", basis="《特种设备安全法》")
    assert case.state == State.REPLIED and case.outcome == outcome and case.delivered_on == D(2026, 6, 1)
    doc = case.documents.get(kind=DocKind.OPINION)
    assert doc.fields["basis"] == "《特种设备安全法》" and doc.fields["request"] == case.content


@pytest.mark.parametrize("category, good, bad", [
    (Category.CLAIM, "support", "adopted"),
    (Category.SUGGESTION, "partly", "support"),
    (Category.REPORT, "handled", "reject"),
])
def test_the_outcome_must_match_the_category_art29_art30_art32(cast, make_case, category, good, bad):
    case = make_case("handling", category=category)
    refuse(workflow.reply_case, cast.handler, case, outcome=bad, opinion="意见", field="outcome")
    assert workflow.reply_case(cast.handler, case, outcome=good, opinion="意见", facts="查明事实", basis="法律依据").outcome == good


def test_a_reply_needs_an_opinion_art32(cast, make_case):
    refuse(workflow.reply_case, cast.handler, make_case("handling"), outcome="support", opinion=" ", field="opinion")


def test_route_six_opens_the_evaluation_and_review_windows_art35(cast, make_case):
    case = workflow.reply_case(cast.handler, make_case("handling"), outcome="support", opinion="意见", facts="查明事实", basis="法律依据")
    assert open_deadlines(case) == {"evaluate": D(2026, 7, 1), "review_request": D(2026, 7, 1)}
    assert case.due_on is None  # the petitioner's windows are not a duty of the organ


@pytest.mark.parametrize("route, category", [("r1", Category.CLAIM), ("r4", Category.CLAIM),
                                             ("suggestion", Category.SUGGESTION), ("report", Category.REPORT)])
def test_other_routes_open_only_the_evaluation_window_art35(cast, make_case, route, category):
    case = workflow.accept_case(cast.handler, make_case("pending", category=category), route=route)
    outcome = {"claim": "explain", "suggestion": "adopted", "report": "handled"}[category]
    case = workflow.reply_case(cast.handler, case, outcome=outcome, opinion="意见", facts="查明事实", basis="法律依据")
    assert open_deadlines(case) == {"evaluate": D(2026, 7, 1)}
    assert case.documents.filter(kind=DocKind.REPLY).count() == 1 and not case.documents.filter(kind=DocKind.OPINION)
    refuse(workflow.request_review, cast.reviewer, case, reason="不服", match="不适用")


def test_an_assigned_case_needs_its_completion_report_art22(cast, make_case):
    case = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.ASSIGN, organ=cast.housing,
                               assigned_due=D(2026, 6, 30))
    case = workflow.accept_case(cast.handler, case, route="r6")
    refuse(workflow.reply_case, cast.handler, case, outcome="support", opinion="意见", facts="查明事实", basis="法律依据",
           field="report")
    case = workflow.reply_case(cast.handler, case, outcome="support", opinion="意见", facts="查明事实", basis="法律依据", report="已办结,报告如下……")
    assert case.state == State.REPLIED and case.events.order_by("-pk").first().data["report"] == "已办结,报告如下……"
    assert case.deadlines.get(rule_id="assign").met_at is not None


def test_windows_run_from_the_day_of_delivery_art35(cast, make_case, travel):
    case = make_case("handling")
    travel(D(2026, 6, 10))
    case = workflow.reply_case(cast.handler, case, outcome="support", opinion="意见", facts="查明事实", basis="法律依据", delivered_on=D(2026, 6, 5))
    # 06-05 + 30 = 07-05, a Sunday → Monday 07-06.
    assert open_deadlines(case) == {"evaluate": D(2026, 7, 6), "review_request": D(2026, 7, 6)}


def test_delivery_cannot_be_in_the_future_or_before_acceptance_art32(cast, make_case, travel):
    case = make_case("pending")
    travel(D(2026, 6, 3))
    case = workflow.accept_case(cast.handler, case, route="r6")
    for day in (D(2026, 6, 4), D(2026, 6, 2)):
        refuse(workflow.reply_case, cast.handler, case, outcome="support", opinion="意见", facts="查明事实",
               basis="法律依据", delivered_on=day, field="delivered_on")


def test_delivery_before_acceptance_is_refused_on_routes_without_a_limit_art32(cast, make_case, travel):
    case = make_case("pending")
    travel(D(2026, 6, 3))
    case = workflow.accept_case(cast.handler, case, route="r1")
    refuse(workflow.reply_case, cast.handler, case, outcome="explain", opinion="已引导诉讼", delivered_on=D(2026, 6, 2),
           field="delivered_on")
    case = workflow.reply_case(cast.handler, case, outcome="explain", opinion="已引导诉讼", facts="查明事实", basis="法律依据", delivered_on=D(2026, 6, 3))
    assert case.delivered_on == D(2026, 6, 3)


# --------------------------------------------------------------------------- evaluate (local setting)


def test_evaluation_within_the_window_is_recorded_once(cast, make_case, travel):
    case = make_case("replied")
    travel(D(2026, 7, 1))
    case = workflow.evaluate_case(cast.registrar, case, organ_satisfaction="basic", bureau_satisfaction="satisfied")
    assert (case.satisfaction_organ, case.satisfaction_bureau) == ("basic", "satisfied")
    assert "evaluate" not in open_deadlines(case) and case.state == State.REPLIED
    refuse(workflow.evaluate_case, cast.handler, case, organ_satisfaction="unsatisfied", match="已经评价")


def test_evaluation_after_the_window_is_refused(cast, make_case, travel):
    case = make_case("replied")
    travel(D(2026, 7, 2))
    refuse(workflow.evaluate_case, cast.handler, case, organ_satisfaction="satisfied", match="超期未评价")


@pytest.mark.parametrize("organ, bureau", [("", ""), ("happy", ""), ("satisfied", "meh")])
def test_evaluation_needs_a_known_level(cast, make_case, organ, bureau):
    refuse(workflow.evaluate_case, cast.handler, make_case("replied"), organ_satisfaction=organ,
           bureau_satisfaction=bureau, field="organ_satisfaction")


def test_evaluation_is_possible_after_closure_within_the_window(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending", category=Category.SUGGESTION), route="suggestion")
    case = workflow.reply_case(cast.handler, case, outcome="adopted", opinion="采纳", facts="查明事实", basis="法律依据")
    case = workflow.close_case(cast.handler, case)
    assert workflow.evaluate_case(cast.handler, case, organ_satisfaction="satisfied").state == State.CLOSED


# --------------------------------------------------------------------------- 复查 (第35条)


def test_review_request_within_30_days_goes_one_level_up_art35(cast, make_case, travel):
    case = make_case("replied")
    travel(D(2026, 7, 1))
    case = workflow.request_review(cast.reviewer, case, reason="对处理意见不服")
    assert case.state == State.REVIEW and case.current_organ == cast.city_gov == cast.housing.parent
    assert case.handling_organ == cast.housing
    assert open_deadlines(case) == {"evaluate": D(2026, 7, 1), "review": D(2026, 7, 31)}
    assert case.due_on == D(2026, 7, 31)


def test_review_request_after_30_days_is_refused_art35(cast, make_case, travel):
    case = make_case("replied")
    travel(D(2026, 7, 2))
    refuse(workflow.request_review, cast.reviewer, case, reason="对处理意见不服", match="第35条")


def test_a_late_registered_request_counts_from_when_it_was_made_art35(cast, make_case, travel):
    case, other = make_case("replied"), make_case("replied")
    travel(D(2026, 7, 6))
    case = workflow.request_review(cast.reviewer, case, reason="不服", requested_on=D(2026, 6, 30))
    assert open_deadlines(case)["review"] == D(2026, 7, 30)
    refuse(workflow.request_review, cast.reviewer, other, reason="不服", requested_on=D(2026, 7, 2), match="第35条")


def test_a_review_request_date_must_be_real_art35(cast, make_case, travel):
    case = make_case("replied")
    refuse(workflow.request_review, cast.reviewer, case, reason="不服", requested_on=D(2026, 6, 2), field="requested_on")
    refuse(workflow.request_review, cast.reviewer, case, reason="不服", requested_on=D(2026, 5, 31), field="requested_on")
    refuse(workflow.request_review, cast.reviewer, case, reason=" ", field="reason")


def test_the_review_opinion_opens_the_re_review_window_art35_art36(cast, make_case, travel):
    case = make_case("review")
    refuse(workflow.issue_review_opinion, cast.reviewer, case, outcome="support", opinion="维持", field="outcome")
    refuse(workflow.issue_review_opinion, cast.reviewer, case, outcome="uphold", opinion="", field="opinion")
    travel(D(2026, 6, 10))
    case = workflow.issue_review_opinion(cast.reviewer, case, outcome="amend", opinion="变更处理意见")
    assert case.state == State.REVIEWED and case.review_outcome == "amend" and case.delivered_on == D(2026, 6, 10)
    assert open_deadlines(case) == {"evaluate": D(2026, 7, 1), "re_review_request": D(2026, 7, 10)}
    assert case.deadlines.get(rule_id="review").met_at is not None
    doc = case.documents.get(kind=DocKind.REVIEW)
    assert doc.organ == cast.city_gov and doc.fields["outcome"] == "变更"


# --------------------------------------------------------------------------- 复核 (第36条)


def test_re_review_request_goes_one_level_above_the_review_organ_art36(cast, make_case, travel):
    case = make_case("reviewed")
    travel(D(2026, 7, 1))
    case = workflow.request_re_review(cast.re_reviewer, case, reason="对复查意见不服")
    assert case.state == State.RE_REVIEW and case.current_organ == cast.prov_gov == cast.city_gov.parent
    assert open_deadlines(case)["re_review"] == D(2026, 7, 31)


def test_re_review_request_after_30_days_is_refused_art36(cast, make_case, travel):
    case = make_case("reviewed")
    travel(D(2026, 7, 2))
    refuse(workflow.request_re_review, cast.re_reviewer, case, reason="不服", match="第36条")


def test_hearing_days_are_not_counted_in_the_re_review_limit_art36(cast, make_case, travel):
    case = make_case("reviewed")
    travel(D(2026, 6, 4))
    case = workflow.request_re_review(cast.re_reviewer, case, reason="不服")
    # 06-04 + 30 = 07-04, a Saturday → Monday 07-06.
    assert open_deadlines(case)["re_review"] == D(2026, 7, 6)
    case = workflow.record_hearing(cast.re_reviewer, case, days=3, note="组织听证")
    # Thirty counted days plus three hearing days end on 07-07 (a Tuesday); the weekend that
    # moved the first limit is not added on top of the hearing.
    assert open_deadlines(case)["re_review"] == D(2026, 7, 7) and case.due_on == D(2026, 7, 7)
    case = workflow.record_hearing(cast.re_reviewer, case, days=2, note="第二次听证")
    assert open_deadlines(case)["re_review"] == D(2026, 7, 9)


@pytest.mark.parametrize("days, note, field", [(0, "听证", "days"), (91, "听证", "days"), (3, " ", "note")])
def test_a_hearing_needs_its_days_and_a_record_art36(cast, make_case, days, note, field):
    refuse(workflow.record_hearing, cast.re_reviewer, make_case("re_review"), days=days, note=note, field=field)


def test_the_re_review_opinion_closes_the_matter_for_good_art36(cast, make_case):
    case = workflow.issue_re_review_opinion(cast.re_reviewer, make_case("re_review"), outcome="revoke", opinion="撤销")
    assert case.state == State.CLOSED and case.closure == Closure.RE_REVIEWED and case.closed_at == NOW
    assert case.due_on is None and "re_review" not in open_deadlines(case)
    doc = case.documents.get(kind=DocKind.RE_REVIEW)
    assert doc.organ == cast.prov_gov and doc.fields["outcome"] == "撤销"


def test_the_whole_life_of_a_case_art22_to_art36(make_case):
    case = make_case("closed")
    assert actions(case) == ["register", "route", "accept", "reply", "request_review", "review",
                             "request_re_review", "re_review"]
    assert list(case.documents.values_list("kind", flat=True)) == [
        DocKind.FORWARD, DocKind.ACCEPTANCE, DocKind.OPINION, DocKind.REVIEW, DocKind.RE_REVIEW]


# --------------------------------------------------------------------------- close (第35、36条)


def test_close_is_refused_while_the_review_window_is_open_art35(cast, make_case, travel):
    case = make_case("replied")
    travel(D(2026, 7, 1))
    refuse(workflow.close_case, cast.handler, case, match="2026-07-01")
    travel(D(2026, 7, 2))
    case = workflow.close_case(cast.registrar, case)
    assert case.state == State.CLOSED and case.closure == Closure.REPLIED and case.state_label == "已办结(答复后办结)"
    assert "review_request" not in open_deadlines(case)


def test_close_after_review_waits_for_the_re_review_window_art36(cast, make_case, travel):
    case = make_case("reviewed")
    refuse(workflow.close_case, cast.reviewer, case, match="复核")
    travel(D(2026, 7, 2))
    case = workflow.close_case(cast.reviewer, case)
    assert case.closure == Closure.REVIEWED


def test_a_reply_without_review_may_be_closed_at_once_art29(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending", category=Category.SUGGESTION), route="suggestion")
    case = workflow.reply_case(cast.handler, case, outcome="adopted", opinion="采纳", facts="查明事实", basis="法律依据")
    assert workflow.close_case(cast.registrar, case).closure == Closure.REPLIED


def test_the_sweep_closes_only_cases_whose_window_has_passed_and_is_idempotent_art35_art36(cast, make_case, travel):
    early = make_case("replied")  # 复查 window to 07-01
    reviewed = make_case("reviewed")  # 复核 window to 07-01
    travel(D(2026, 6, 20))
    late = make_case("replied")  # window to 07-20
    handling = make_case("handling")
    travel(D(2026, 7, 2))
    assert workflow.sweep_closable() == 2
    assert fresh(early).closure == Closure.REPLIED and fresh(reviewed).closure == Closure.REVIEWED
    assert fresh(late).state == State.REPLIED and fresh(handling).state == State.HANDLING
    assert actions(early)[-1] == "close" and early.events.get(action="close").actor is None
    audit_before = AuditEntry.objects.count()
    assert workflow.sweep_closable() == 0  # nothing left to do, nothing written
    assert AuditEntry.objects.count() == audit_before and fresh(early).events.filter(action="close").count() == 1


def test_the_scheduled_close_refuses_open_cases(make_case):
    case = make_case("handling")
    refuse(workflow.close_case, None, case, match="不能办结归档")


# --------------------------------------------------------------------------- audit


def test_each_transition_appends_one_audit_entry_and_the_chain_verifies(make_case):
    case = make_case("closed")
    assert audit_actions(case) == [f"case.{a}" for a in actions(case)]
    checked, bad, reason = log.verify()
    assert (checked, bad, reason) == (AuditEntry.objects.count(), None, "")
    entry = AuditEntry.objects.get(object_id=str(case.pk), action="case.accept")
    assert entry.data["from_state"] == "pending" and entry.data["to_state"] == "handling"
    assert entry.actor_name == "handler"


@contextlib.contextmanager
def tampering():
    """Act as someone who owns the tables: on PostgreSQL, switch the append-only trigger off."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_append_only")


def test_tampering_with_an_audit_row_is_reported(make_case):
    make_case("handling")
    target = AuditEntry.objects.get(action="case.route")
    with tampering():
        AuditEntry.objects.filter(pk=target.pk).update(data={**target.data, "to_state": "closed"})
    checked, bad, reason = log.verify()
    assert bad.pk == target.pk and checked == target.seq - 1 and "altered" in reason


def test_deleting_an_audit_row_is_reported(make_case):
    make_case("handling")
    with tampering():
        AuditEntry.objects.filter(action="case.route").delete()
    _checked, bad, reason = log.verify()
    assert bad is not None and "missing" in reason


def test_on_postgresql_the_application_cannot_update_or_delete_audit_rows(make_case):
    from django.db import DatabaseError, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL")
    make_case("handling")
    target = AuditEntry.objects.get(action="case.route")
    for attempt in (lambda: AuditEntry.objects.filter(pk=target.pk).update(action="x"),
                    lambda: AuditEntry.objects.filter(pk=target.pk).delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert log.verify()[1] is None


def test_deleting_an_account_leaves_its_audit_entries_as_written(cast):
    """Accounts with case history are protected; one with only audit entries (e.g. views of
    personal data) may be deleted, and its entries stay exactly as written."""
    from xinfang.orgs.models import User

    temp = User.objects.create_user("temp_clerk", password="x", organ=cast.bureau)
    entry = log.append(temp, "case.reveal", None, note="查看")
    temp_pk = temp.pk
    temp.delete()
    entry.refresh_from_db()
    assert entry.actor_id == temp_pk and entry.actor_name == "temp_clerk"
    assert log.verify()[1] is None


@pytest.mark.parametrize("missing", ["facts", "basis"])
def test_a_handling_opinion_states_facts_and_legal_basis_art32(cast, make_case, missing):
    case = make_case("handling")
    args = dict(outcome="support", opinion="支持", facts="电梯故障属实", basis="《特种设备安全法》")
    args[missing] = "  "
    with pytest.raises(WorkflowError) as err:
        workflow.reply_case(cast.handler, case, **args)
    assert err.value.field == missing and "第32条" in err.value.message
    case.refresh_from_db()
    assert case.state == State.HANDLING and not case.documents.filter(kind=DocKind.OPINION).exists()
