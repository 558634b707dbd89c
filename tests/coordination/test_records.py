"""Conduct records (Art.26, 47) and the legal advice given at reception."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.cases.access import WorkflowError
from xinfang.coordination import services as sv
from xinfang.coordination.models import ConductRecord, LegalAdvice

AT = timezone.make_aware(dt.datetime(2026, 6, 1, 8, 30))


def _conduct(actor, **over):
    data = dict(kind="staying", occurred_at=AT, place="市信访局接待大厅", facts="信访人在大厅滞留至下班后。",
                dissuasion="工作人员说明接待时间并劝其次日再来。")
    data.update(over)
    return sv.record_conduct(actor, **data)


def test_bureau_staff_record_conduct_on_a_case(cast, make_case):
    case = make_case("pending")
    r = _conduct(cast.registrar, case=case, police_referred=True, police_station="东湖派出所")
    assert (r.organ, r.case, r.police_station) == (cast.bureau, case, "东湖派出所")
    assert not hasattr(r, "penalty")


def test_conduct_without_case(cast):
    assert _conduct(cast.supervisor).case is None


def test_other_organ_may_not_record(cast):
    with pytest.raises(sv.Refused, match="信访部门工作人员"):
        _conduct(cast.handler)
    assert not ConductRecord.objects.exists()


@pytest.mark.parametrize("over, message", [
    ({"kind": "fine"}, "第26条"),
    ({"facts": " "}, "经过"),
    ({"dissuasion": ""}, "劝阻"),
    ({"police_referred": True}, "派出所"),
    ({"occurred_at": AT + dt.timedelta(days=1)}, "晚于当前时间"),
])
def test_bad_conduct_input_refused(cast, over, message):
    with pytest.raises(WorkflowError, match=message):
        _conduct(cast.registrar, **over)
    assert not ConductRecord.objects.exists()


def test_conduct_on_invisible_case_refused(cast):
    from xinfang.cases import workflow
    from tests.conftest import petition_data

    hidden = workflow.register_case(cast.district_registrar, petition_data(title="区局自办"), [workflow.PetitionerData(name="某")])
    with pytest.raises(WorkflowError, match="无权查看"):
        _conduct(cast.registrar, case=hidden)
    assert not ConductRecord.objects.exists()


def test_advice_recorded_by_bureau_staff(cast, make_case):
    case = make_case("pending")
    a = sv.record_advice(cast.registrar, case=case, adviser_kind="lawyer", adviser_name="周律师", affiliation="江州律师事务所",
                         given_at=AT, advice="建议通过劳动仲裁主张工资。")
    assert (a.case, a.organ) == (case, cast.bureau)


def test_advice_refused_for_other_organ_and_without_case(cast, make_case):
    case = make_case("pending")
    with pytest.raises(sv.Refused):
        sv.record_advice(cast.other, case=case, adviser_kind="lawyer", adviser_name="周", given_at=AT, advice="x")
    with pytest.raises(WorkflowError, match="信访事项"):
        sv.record_advice(cast.registrar, case=None, adviser_kind="lawyer", adviser_name="周", given_at=AT, advice="x")
    with pytest.raises(WorkflowError, match="法律意见"):
        sv.record_advice(cast.registrar, case=case, adviser_kind="mediator", adviser_name="周", given_at=AT, advice=" ")
    assert not LegalAdvice.objects.exists()


def test_conduct_page_flow(as_user, cast, make_case):
    case = make_case("pending")
    c = as_user(cast.registrar)
    r = c.post("/coordination/conduct/new/", {"case_number": case.number, "kind": "violence", "occurred_at": "2026-06-01T08:00",
                                              "place": "接待大厅", "facts": "推搡工作人员。", "dissuasion": "当场劝阻。",
                                              "police_referred": "on", "police_station": "东湖派出所"})
    assert r.status_code == 302 and r["Location"] == f"/cases/{case.pk}/"
    assert c.get("/coordination/conduct/").content.decode().count("东湖派出所") == 1
    # Refused with the reason, nothing written.
    r = c.post("/coordination/conduct/new/", {"case_number": case.number, "kind": "violence", "occurred_at": "2026-06-01T08:00",
                                              "place": "接待大厅", "facts": "推搡。", "dissuasion": "劝阻。", "police_referred": "on"})
    assert r.status_code == 400 and "派出所" in r.content.decode()
    r = c.post("/coordination/conduct/new/", {"case_number": "NOPE-1", "kind": "violence", "occurred_at": "2026-06-01T08:00",
                                              "place": "大厅", "facts": "推搡。", "dissuasion": "劝阻。"})
    assert r.status_code == 400 and "无权查看" in r.content.decode()
    assert ConductRecord.objects.count() == 1
    assert as_user(cast.handler).get("/coordination/conduct/").status_code == 403


def test_case_page_shows_records_to_those_who_see_the_case(as_user, cast, make_case):
    case = make_case("handling")
    _conduct(cast.registrar, case=case, facts="在大厅大声喧哗。")
    sv.record_advice(cast.registrar, case=case, adviser_kind="mediator", adviser_name="吴调解", given_at=AT, advice="建议调解。")
    page = as_user(cast.handler).get(f"/cases/{case.pk}/").content.decode()
    assert "在大厅大声喧哗" in page and "吴调解" in page
    assert as_user(cast.other).get(f"/cases/{case.pk}/").status_code == 404


def test_advice_page_flow(as_user, cast, make_case):
    case = make_case("pending")
    c = as_user(cast.registrar)
    r = c.post("/coordination/advice/new/", {"case_number": case.number, "adviser_kind": "lawyer", "adviser_name": "周律师",
                                             "given_at": "2026-06-01T08:00", "advice": "建议申请仲裁。"})
    assert r.status_code == 302
    assert "周律师" in c.get("/coordination/advice/").content.decode()
    assert as_user(cast.handler).post("/coordination/advice/new/", {}).status_code == 403
    assert LegalAdvice.objects.count() == 1


def test_portal_and_api_never_read_coordination_records():
    """Conduct records and legal advice never reach the citizen portal or the public API: neither
    package refers to them (a static guard; the portal renders only its own templates)."""
    from pathlib import Path

    import xinfang

    root = Path(xinfang.__file__).parent
    for package in ("portal", "api"):
        for path in (root / package).rglob("*"):
            if path.suffix in (".py", ".html"):
                text = path.read_text(encoding="utf-8")
                assert "coordination" not in text and "conduct_records" not in text and "legal_advice" not in text, path


def test_forms_open_with_the_case_filled_in(as_user, cast, make_case):
    case = make_case("pending")
    c = as_user(cast.registrar)
    for url in ("/coordination/conduct/new/", "/coordination/advice/new/"):
        r = c.get(f"{url}?case={case.number}")
        assert r.status_code == 200 and f'value="{case.number}"' in r.content.decode()


def test_accept_panel_offers_the_simple_track(as_user, cast, make_case):
    case = make_case("pending")
    r = as_user(cast.handler).get(f"/cases/{case.pk}/act/accept/")
    assert r.status_code == 200 and "简易办理(10日内办结)" in r.content.decode()
