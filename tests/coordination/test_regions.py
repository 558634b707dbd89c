"""分片包干: assigning regions and the owner's desk."""
from __future__ import annotations

import datetime as dt

import pytest

from xinfang.cases.access import WorkflowError
from xinfang.coordination import services as sv
from xinfang.coordination.models import RegionAssignment
from xinfang.orgs.models import Level, Region


@pytest.fixture
def street(cast):
    return Region.objects.create(code="440102001", name="幸福街道", level=Level.TOWNSHIP, parent=cast.district)


def test_head_assigns_a_region_to_bureau_staff(cast, bureau_head):
    a = sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    assert (a.organ, a.since, a.until) == (cast.bureau, dt.date(2026, 6, 1), None)


@pytest.mark.parametrize("who", ["registrar", "handler", "head"])
def test_others_may_not_assign(cast, who):
    # The registrar is bureau staff without the head's role; 住建局's head is not at a bureau.
    with pytest.raises(sv.Refused, match="负责人或督查员"):
        sv.assign_region(getattr(cast, who), user=cast.registrar, region=cast.district)
    assert not RegionAssignment.objects.exists()


def test_assignee_must_be_of_the_bureau(cast, bureau_head):
    with pytest.raises(WorkflowError, match="本信访部门"):
        sv.assign_region(bureau_head, user=cast.handler, region=cast.district)
    assert not RegionAssignment.objects.exists()


def test_same_region_twice_refused(cast, bureau_head):
    sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    with pytest.raises(WorkflowError, match="已包干"):
        sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    assert RegionAssignment.objects.count() == 1


def test_desk_lists_open_cases_in_and_under_the_region(cast, bureau_head, make_case, street):
    sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    in_street = make_case("handling", region=street)
    in_district = make_case("pending", region=cast.district)
    elsewhere = make_case("handling", region=cast.city)
    closed = make_case("closed", region=cast.district)
    ids = set(sv.desk_cases(cast.registrar).values_list("pk", flat=True))
    assert ids == {in_street.pk, in_district.pk}
    assert elsewhere.pk not in ids and closed.pk not in ids


def test_desk_only_shows_visible_cases(cast, bureau_head, make_case):
    from xinfang.cases import workflow
    from tests.conftest import petition_data

    # A case 东湖区信访局 registered itself never passed through the city bureau: not on its desk.
    own = workflow.register_case(cast.district_registrar, petition_data(region=cast.district, title="区里自己登记"),
                                 [workflow.PetitionerData(name="某人")])
    sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    assert own.pk not in set(sv.desk_cases(cast.registrar).values_list("pk", flat=True))


def test_ended_assignment_empties_the_desk(cast, bureau_head, make_case, travel):
    a = sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    make_case("handling", region=cast.district)
    assert sv.desk_cases(cast.registrar).count() == 1
    sv.end_region(bureau_head, a)
    travel(dt.date(2026, 6, 2))
    assert sv.desk_cases(cast.registrar).count() == 0


def test_end_refused_for_non_head(cast, bureau_head):
    a = sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    with pytest.raises(sv.Refused):
        sv.end_region(cast.registrar, a)
    a.refresh_from_db()
    assert a.until is None


def test_desk_page(as_user, cast, bureau_head, make_case):
    sv.assign_region(bureau_head, user=cast.registrar, region=cast.district)
    case = make_case("handling", region=cast.district)
    page = as_user(cast.registrar).get("/coordination/").content.decode()
    assert case.number in page and "东湖区" in page


def test_regions_page_assign_and_refuse(as_user, cast, bureau_head):
    r = as_user(bureau_head).post("/coordination/regions/", {"user": cast.registrar.pk, "region": cast.district.pk})
    assert r.status_code == 302
    assert RegionAssignment.objects.filter(user=cast.registrar, region=cast.district).exists()
    r = as_user(cast.registrar).post("/coordination/regions/", {"user": cast.supervisor.pk, "region": cast.city.pk})
    assert r.status_code == 403 and "负责人或督查员" in r.content.decode()
    assert RegionAssignment.objects.count() == 1
    r = as_user(cast.handler).get("/coordination/regions/")
    assert r.status_code == 403


def test_anonymous_goes_to_login(client):
    for url in ("/coordination/", "/coordination/regions/", "/coordination/backlog/", "/coordination/conduct/",
                "/coordination/advice/", "/coordination/backlog.xlsx"):
        r = client.get(url)
        assert r.status_code == 302 and "login" in r["Location"]


def test_regions_page_shows_the_form_only_to_the_head(as_user, cast, bureau_head):
    assert "<form method=\"post\" novalidate>" in as_user(bureau_head).get("/coordination/regions/").content.decode()
    page = as_user(cast.registrar).get("/coordination/regions/")
    assert page.status_code == 200 and "安排包片" not in page.content.decode()
