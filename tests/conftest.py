"""The standard cast every test uses (DESIGN.md habit 4).

A small city: 江州市信访局 (the bureau) with 住建局 and 人社局 (handling organs), 城管局 (another
organ, also the accused organ of a 检举控告 case), 市纪委监委, 市委政法委, 江州市人民政府 above
the organs (receives 复查), 省政府 above the city (receives 复核), and 东湖区信访局 below.

Time is frozen at 2026-06-01 09:00 (Asia/Shanghai) unless a test moves it; tests marked
`browser` get a clock that ticks from that instant.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from xinfang.cases import workflow
from xinfang.cases.models import Category, Channel, RouteKind
from xinfang.orgs.models import Level, Organ, OrganKind, Region, Role, User

# Background jobs run inline in tests (in memory): enqueueing a job runs it, deterministically.
from huey.contrib.djhuey import HUEY  # noqa: E402

HUEY.immediate = True

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=TZ)
PASSWORD = "Xf-test-pass-2026"
VALID_ID = "110101199003074477"  # checksum-valid sample resident ID


@pytest.fixture(autouse=True)
def frozen_time(request):
    # A live server and a browser need a clock that moves; it starts at the same instant.
    tick = request.node.get_closest_marker("browser") is not None
    with time_machine.travel(NOW, tick=tick) as traveller:
        yield traveller


@pytest.fixture
def travel(frozen_time):
    """travel(date_or_datetime): move the frozen clock."""
    def move(when):
        if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
            when = dt.datetime.combine(when, dt.time(10, 0), TZ)
        frozen_time.move_to(when)
    return move


class Cast:
    """Organs and users of the standard cast, as attributes."""


def _organ(name, short, code, level, kind, region, parent=None):
    return Organ.objects.create(name=name, short_name=short, code=code, level=level, kind=kind, region=region, parent=parent)


def _user(username, organ, *roles, name=""):
    return User.objects.create_user(username, password=PASSWORD, organ=organ, roles=list(roles), full_name=name or username)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The default PBKDF2 hasher costs a second per user on this machine; tests need no real hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments and rendered documents go to a throw-away directory, never into var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


def ensure_seed() -> None:
    """Restore the rules and calendar the migrations seed: a transactional test flushes every
    table when it ends, so the tests after it would find them gone (both seeds are idempotent)."""
    from xinfang.deadlines.models import CalendarDay, CalendarYear, Rule
    from xinfang.deadlines.seed import seed_calendar, seed_rules

    if not Rule.objects.exists():
        seed_rules(Rule)
    if not CalendarYear.objects.exists():
        seed_calendar(CalendarYear, CalendarDay)


@pytest.fixture
def cast(db):
    ensure_seed()
    c = Cast()
    c.province = Region.objects.create(code="440000", name="南江省", level=Level.PROVINCE)
    c.city = Region.objects.create(code="440100", name="江州市", level=Level.CITY, parent=c.province)
    c.district = Region.objects.create(code="440102", name="东湖区", level=Level.COUNTY, parent=c.city)
    c.prov_gov = _organ("南江省人民政府", "南江省政", "NJSZF", Level.PROVINCE, OrganKind.GOVERNMENT, c.province)
    c.city_gov = _organ("江州市人民政府", "江州政", "JZSZF", Level.CITY, OrganKind.GOVERNMENT, c.city, c.prov_gov)
    c.bureau = _organ("江州市信访局", "江信", "JZXF", Level.CITY, OrganKind.BUREAU, c.city, c.city_gov)
    c.housing = _organ("江州市住房和城乡建设局", "江住建", "JZZJ", Level.CITY, OrganKind.FUNCTIONAL, c.city, c.city_gov)
    c.labour = _organ("江州市人力资源和社会保障局", "江人社", "JZRS", Level.CITY, OrganKind.FUNCTIONAL, c.city, c.city_gov)
    c.urban = _organ("江州市城市管理局", "江城管", "JZCG", Level.CITY, OrganKind.FUNCTIONAL, c.city, c.city_gov)
    c.discipline = _organ("江州市纪委监委", "江纪", "JZJW", Level.CITY, OrganKind.DISCIPLINE, c.city)
    c.legal = _organ("江州市委政法委", "江政法", "JZZF", Level.CITY, OrganKind.POLITICAL_LEGAL, c.city)
    c.district_bureau = _organ("东湖区信访局", "东信", "DHXF", Level.COUNTY, OrganKind.BUREAU, c.district, c.bureau)

    c.registrar = _user("registrar", c.bureau, Role.REGISTRAR, name="李登记")
    c.handler = _user("handler", c.housing, Role.HANDLER, name="王承办")
    c.head = _user("head", c.housing, Role.HEAD, Role.HANDLER, name="张局长")
    c.other = _user("other", c.labour, Role.HANDLER, Role.REGISTRAR, Role.HEAD, name="赵其他")
    c.accused = _user("accused", c.urban, Role.HANDLER, Role.REGISTRAR, name="钱被诉")
    c.discipline_handler = _user("jiwei", c.discipline, Role.HANDLER, name="孙纪检")
    c.legal_handler = _user("zhengfa", c.legal, Role.HANDLER, name="周政法")
    c.reviewer = _user("reviewer", c.city_gov, Role.HANDLER, Role.REGISTRAR, name="吴复查")
    c.re_reviewer = _user("re_reviewer", c.prov_gov, Role.HANDLER, Role.REGISTRAR, name="郑复核")
    c.district_registrar = _user("dh_registrar", c.district_bureau, Role.REGISTRAR, name="冯区登记")
    c.supervisor = _user("supervisor", c.bureau, Role.SUPERVISOR, name="陈督查")
    c.leader = _user("leader", c.city_gov, Role.LEADER, name="褚领导")
    c.citizen = User.objects.create_user("citizen", password=PASSWORD, full_name="刘市民")
    c.admin = User.objects.create_superuser("admin", password=PASSWORD, full_name="系统管理员")
    return c


def petition_data(**over):
    data = dict(channel=Channel.LETTER, received_at=NOW - dt.timedelta(hours=1), title="小区电梯长期故障无人维修",
                content="本人住东湖区幸福里小区3栋,电梯自今年3月起多次故障,物业拖延不修,请求督促维修。",
                category=Category.CLAIM, head_count=1)
    data.update(over)
    return data


@pytest.fixture
def make_case(cast):
    """make_case(state="handling", **fields) → a case walked to that state through the services."""
    def make(state="registered", *, petitioners=None, **fields):
        pets = petitioners or [workflow.PetitionerData(name="刘市民", id_number=VALID_ID, phone="13800138000", address="东湖区幸福里3栋")]
        case = workflow.register_case(cast.registrar, petition_data(**fields), pets)
        if state == "registered":
            return case
        case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing)
        if state == "pending":
            return case
        route = {"claim": "r6", "suggestion": "suggestion", "report": "report"}[case.category]
        case = workflow.accept_case(cast.handler, case, route=route)
        if state == "handling":
            return case
        outcome = {"claim": "support", "suggestion": "adopted", "report": "handled"}[case.category]
        case = workflow.reply_case(cast.handler, case, outcome=outcome, opinion="经调查,已责成物业限期维修。",
                                   facts="电梯自3月起多次故障属实。", basis="《特种设备安全法》第四十二条")
        if state == "replied":
            return case
        case = workflow.request_review(cast.reviewer, case, reason="对处理意见不服")
        if state == "review":
            return case
        case = workflow.issue_review_opinion(cast.reviewer, case, outcome="uphold", opinion="维持原处理意见。")
        if state == "reviewed":
            return case
        case = workflow.request_re_review(cast.re_reviewer, case, reason="对复查意见不服")
        if state == "re_review":
            return case
        return workflow.issue_re_review_opinion(cast.re_reviewer, case, outcome="uphold", opinion="维持复查意见。")
    return make
