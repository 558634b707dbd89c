"""Workbench pages over 1,000,000 cases (the spine: lists, inbox and home "page quickly over a
million cases").

Uses the bench cases of the dashboard benchmark (xinfang.analytics.bench: numbers BENCHAN-…, an
organ tree under JZBENCH, spread over the last 365 days), writing them first when they are not
there, and gives the open ones a running due date so the inbox tabs 临期/超期 have work in them.
Then, through the Django test client (the whole stack but the network), times each page for a
handler of one responsible organ (about 1/20 of the cases) and for the bureau's registrar and a
supervisor of the whole tree (all of them): home, each inbox tab, the case list unfiltered and with
each kind of filter, the second and the last offered page, and a case page. p50/p95 of repeated
requests, after one warm-up request each.
"""
from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from xinfang.bench import Timer, percentiles

TITLE = "工作台页面 workbench pages"
USES_DATABASE = True


def _users(bureau, organs):
    from xinfang.orgs.models import Role, User

    def user(username, organ, *roles):
        return User.objects.filter(username=username).first() or User.objects.create_user(
            username, password=None, organ=organ, roles=list(roles), full_name=username)

    return {
        "handler of one organ": user("bench-wb-handler", organs[1], Role.HANDLER, Role.HEAD),
        "bureau registrar": user("bench-wb-registrar", bureau, Role.REGISTRAR),
        "supervisor of the tree": user("bench-wb-supervisor", bureau.parent, Role.SUPERVISOR),
    }


def _give_due_dates(prefix: str, report) -> None:
    """Open bench cases get a running due date around today (some overdue, some due soon)."""
    from xinfang.cases.models import Case

    open_cases = Case.objects.filter(number__startswith=prefix + "-", state="handling")
    if not open_cases.filter(due_on__isnull=True).exists():
        return
    today = timezone.localdate()
    with Timer() as t, transaction.atomic():
        # Spread by id over 60 days around today: about 1/6 overdue, 1/12 in the warning days.
        for offset in range(-10, 50):
            day = today + dt.timedelta(days=offset)
            open_cases.filter(due_on__isnull=True).extra(where=["(id %% 60) = %s"], params=[offset + 10]).update(
                due_on=day, due_warn_on=day - dt.timedelta(days=3))
    report.note(f"running due dates set in {t.seconds:.1f} s")


def run(report, *, quick: bool) -> None:
    from xinfang.analytics import bench as dashboard_bench
    from xinfang.cases.models import Case

    n = 20_000 if quick else 1_000_000
    bureau, organs, topics, regions, _admin, _analyst = dashboard_bench._org_tree()
    dashboard_bench._populate(n, bureau, organs, topics, regions, report)
    _give_due_dates(dashboard_bench.PREFIX, report)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    users = _users(bureau, organs)
    sample = Case.objects.filter(number__startswith=dashboard_bench.PREFIX + "-", current_organ=organs[1]).first()
    pages = [
        ("home", "/"),
        ("inbox 办理中", "/inbox/?tab=handling"),
        ("inbox 临期", "/inbox/?tab=near"),
        ("inbox 超期", "/inbox/?tab=overdue"),
        ("case list", "/cases/"),
        ("case list page 2", "/cases/?page=2"),
        ("case list last offered page", "/cases/?page=200"),
        ("case list by number", f"/cases/?number={sample.number}"),
        ("case list by state + organ", f"/cases/?state=handling&organ={organs[1].pk}"),
        ("case list by channel + dates", "/cases/?channel=visit&received_from="
                                         f"{(timezone.localdate() - dt.timedelta(days=30)).isoformat()}"),
        ("case list overdue", "/cases/?grade=overdue"),
        ("case list by text", "/cases/?q=基准信访"),
        ("case page", f"/cases/{sample.pk}/"),
    ]
    repeats = 3 if quick else 10
    client = Client()
    for label, user in users.items():
        client.force_login(user)
        for name, url in pages:
            if name == "case page" and label != "handler of one organ":
                continue
            response = client.get(url)  # warm-up
            if response.status_code != 200:
                report.note(f"{name} ({label}): HTTP {response.status_code}")
                continue
            samples = []
            for _i in range(repeats):
                with Timer() as t:
                    client.get(url)
                samples.append(t.seconds * 1000)
            p50, p95 = percentiles(samples)
            report.figure(f"{name} ({label}) p50/p95", f"{p50:,.0f} / {p95:,.0f}", "ms")
