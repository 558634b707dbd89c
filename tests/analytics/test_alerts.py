"""Hot topics and early warning on synthetic data; deadline reminders; all jobs idempotent."""
import datetime as dt

import pytest

from xinfang.analytics.hot import cluster, detect_alerts, hot_topics
from xinfang.analytics.jobs import send_deadline_reminders
from xinfang.analytics.models import Alert, AlertKind, Notice
from xinfang.cases import workflow
from xinfang.cases.models import Topic

from tests.conftest import NOW

NOISE = ["幸福里小区夜间施工噪音扰民", "幸福里小区工地晚上施工噪音太大", "幸福里小区施工噪音影响休息", "幸福里小区深夜施工噪声扰民"]
OTHER = ["工资拖欠三个月未发放", "孩子入学学位分配不公", "道路积水无人处理", "医保报销比例有误", "养老金发放延迟"]


def test_cluster_groups_one_matter():
    groups = cluster(NOISE + OTHER, min_cases=3)
    assert len(groups) == 1 and sorted(groups[0]) == [0, 1, 2, 3]


def _reg(cast, title, *, when, topic=None, people=None, head_count=1):
    pets = people or [workflow.PetitionerData(name="刘市民")]
    return workflow.register_case(cast.registrar, {
        "channel": "letter", "received_at": when, "title": title, "content": title + ",请求处理。",
        "category": "claim", "topic": topic, "head_count": max(head_count, len(pets))}, pets)


def test_hot_topics_heat(cast):
    for i, t in enumerate(NOISE * 2):
        _reg(cast, t, when=NOW - dt.timedelta(days=i % 10, hours=1))
    for t in OTHER:
        _reg(cast, t, when=NOW - dt.timedelta(days=20))
    topics = hot_topics(cast.admin, today=NOW.date())
    assert len(topics) == 1
    top = topics[0]
    assert top["count"] == 8 and "幸福里" in top["label"] and top["heat"] > 8
    assert hot_topics(cast.other, today=NOW.date()) == []  # none of these cases is at labour


def test_surge_alert(cast, client):
    noise = Topic.objects.create(name="噪声污染")
    for week in range(1, 9):  # baseline: one case a week for 8 weeks
        _reg(cast, f"噪声投诉{week}", when=NOW - dt.timedelta(days=7 * week + 1), topic=noise)
    for i in range(6):  # surge: six in the last week
        _reg(cast, NOISE[i % 4], when=NOW - dt.timedelta(days=i % 5, hours=1), topic=noise)
    created = detect_alerts(NOW)
    assert created["surge"] == 1
    alert = Alert.objects.get(kind=AlertKind.SURGE)
    assert alert.cases.count() == 6 and "噪声污染" in alert.title
    assert detect_alerts(NOW)["surge"] == 0  # idempotent
    assert Alert.objects.filter(kind=AlertKind.SURGE).count() == 1
    # The page shows it to whoever sees its cases, and acknowledging it is recorded.
    client.force_login(cast.registrar)
    page = client.get("/analytics/alerts/")
    assert alert in [r["alert"] for r in page.context["rows"]]
    client.post(f"/analytics/alerts/{alert.pk}/ack/", {"note": "已安排调查"})
    alert.refresh_from_db()
    assert alert.acknowledged_by == cast.registrar and alert.ack_note == "已安排调查"
    from xinfang.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="analytics.alert_ack").exists()
    client.force_login(cast.other)  # sees none of the cases: the alert is not shown
    assert client.get("/analytics/alerts/?show=all").context["rows"] == []
    assert client.post(f"/analytics/alerts/{alert.pk}/ack/").status_code == 404


def test_group_petition_and_repeat_petitioner(cast):
    shared = workflow.PetitionerData(name="张业主", phone="13900000009")
    for i in range(3):
        people = [shared] + [workflow.PetitionerData(name=f"业主{i}{j}", phone=f"139000001{i}{j}") for j in range(2)]
        _reg(cast, NOISE[i], when=NOW - dt.timedelta(hours=5 + i), people=people)
    _reg(cast, "孩子入学学位分配不公", when=NOW - dt.timedelta(hours=1), people=[workflow.PetitionerData(name="王某")])
    found = detect_alerts(NOW)
    assert found["group"] == 1 and found["repeat"] == 1
    group = Alert.objects.get(kind=AlertKind.GROUP)
    assert group.cases.count() == 3 and group.data["people"] == 7
    repeat = Alert.objects.get(kind=AlertKind.REPEAT)
    assert repeat.cases.count() == 3
    assert "13900000009" not in repeat.key and "张业主" not in repeat.title  # no identity in the alert
    assert detect_alerts(NOW) == {"surge": 0, "group": 0, "repeat": 0, "overdue_risk": 0}


def test_overdue_risk_and_reminders(cast, make_case, travel, client):
    case = make_case("handling")
    travel(NOW + dt.timedelta(days=57))  # handling limit (60 d) in its 7-day warning window
    assert detect_alerts()["overdue_risk"] == 1
    assert send_deadline_reminders() == 1
    assert send_deadline_reminders() == 0
    notice = Notice.objects.get()
    assert notice.organ == cast.housing and notice.grade == "near" and notice.case == case
    travel(NOW + dt.timedelta(days=70))
    assert send_deadline_reminders() == 1 and Notice.objects.filter(grade="overdue").count() == 1
    client.force_login(cast.handler)
    assert len(client.get("/analytics/notices/").context["notices"]) == 2
    client.force_login(cast.other)
    assert len(client.get("/analytics/notices/").context["notices"]) == 0


def test_jobs_run_through_huey(cast, make_case):
    from xinfang.analytics import tasks

    make_case("handling")
    tasks.refresh_aggregates()  # HUEY.immediate in tests: runs inline
    tasks.deadline_reminders()
    tasks.early_warning()
    from xinfang.analytics.models import DailyStat, DirtyDay

    assert DailyStat.objects.filter(dim="all", grain="d").exists() and not DirtyDay.objects.exists()


def test_analytics_cli(cast, make_case, travel):
    from io import StringIO

    from django.core.management import call_command

    from xinfang.analytics.models import DailyStat

    make_case("handling")
    out = StringIO()
    call_command("analytics", "refresh", "--full", stdout=out)
    assert "rows written" in out.getvalue() and DailyStat.objects.exists()
    travel(NOW + dt.timedelta(days=57))
    call_command("analytics", "reminders", stdout=out)
    call_command("analytics", "alerts", stdout=out)
    assert Notice.objects.count() == 1 and Alert.objects.filter(kind=AlertKind.OVERDUE_RISK).count() == 1
