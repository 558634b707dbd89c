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


# Varied texts for the "case list by text" figures: every bench case gets a title and a content
# drawn from these phrases, so a common word (物业费, 电梯: about 1 case in 5), a rare word
# (古树名木, 古树: about 1 in 2,000) and a word found nowhere are each searched with a 2-character and
# a 3-or-more-character query.
_PHRASES = [
    "小区电梯经常停运,多次报修物业未处理", "物业费收费标准不透明,要求公示明细", "拆迁补偿款至今未到位",
    "拖欠农民工工资三个月", "道路施工噪音扰民,夜间仍在作业", "学校周边交通拥堵存在安全隐患",
    "医保报销比例与政策不符", "农村宅基地确权纠纷", "企业排放废水污染河道", "养老金发放延迟",
    "廉租房分配不公", "菜市场占道经营", "村集体土地承包费去向不明", "供暖温度不达标",
    "停车位被长期占用", "网约车平台拒不退款", "供水管道破裂无人维修", "社区卫生服务中心服务态度差",
]
_COMMON = "物业费"  # also inside _PHRASES[1]; _PHRASES[0] carries 电梯
_RARE = "古树名木"
TEXT_QUERIES = [
    ("common, 3+ chars", _COMMON), ("common, 2 chars", "电梯"), ("rare, 3+ chars", _RARE),
    ("rare, 2 chars", "古树"), ("absent, 3+ chars", "无此关键词"), ("absent, 2 chars", "䶮䶮"),
]


def _vary_texts(prefix: str, report) -> None:
    """Give bench cases varied titles and contents once (the dashboard benchmark writes one fixed
    text into all of them, which makes a text search figure meaningless)."""
    import random

    from xinfang.cases.models import Case

    bench = Case.objects.filter(number__startswith=prefix + "-")
    if not bench.filter(content="基准信访内容").exists():
        return
    rng = random.Random(7)
    ids = list(bench.order_by("id").values_list("id", flat=True))
    table = connection.ops.quote_name(Case._meta.db_table)
    sql = f"UPDATE {table} SET title = %s, content = %s WHERE id = %s"
    with Timer() as t:
        for start in range(0, len(ids), 5000):
            rows = []
            for pk in ids[start:start + 5000]:
                phrases = rng.sample(_PHRASES, 3)
                if rng.random() < 0.0005:
                    phrases.insert(rng.randrange(4), f"{_RARE}被砍伐")
                content = ";".join(phrases) + f"。信访人称已反映{rng.randrange(1, 9)}次,请求依法处理。"
                rows.append((phrases[0][:20], content, pk))
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
    report.note(f"varied texts written into {len(ids):,} bench cases in {t.seconds:.1f} s")


def _link_organs(prefix: str, report) -> None:
    """Bench cases are written straight into the case table; give them the CaseOrgan rows the
    services write (the bureau and the organ holding the case), on which visibility rests."""
    from xinfang.cases.models import Case, CaseOrgan

    cases = Case.objects.filter(number__startswith=prefix + "-")
    if CaseOrgan.objects.filter(case__in=cases[:1]).exists():
        return
    table, case_table = CaseOrgan._meta.db_table, Case._meta.db_table
    verb = "INSERT OR IGNORE" if connection.vendor == "sqlite" else "INSERT"
    tail = "" if connection.vendor == "sqlite" else " ON CONFLICT DO NOTHING"
    with Timer() as t, transaction.atomic(), connection.cursor() as cursor:
        for column in ("current_organ_id", "bureau_id"):
            cursor.execute(f"{verb} INTO {table} (case_id, organ_id, since) SELECT id, {column}, received_at "
                           f"FROM {case_table} WHERE number LIKE %s{tail}", [prefix + "-%"])
    report.note(f"organ links written in {t.seconds:.1f} s")


def run(report, *, quick: bool) -> None:
    from xinfang.analytics import bench as dashboard_bench
    from xinfang.cases.models import Case

    n = 20_000 if quick else 1_000_000
    bureau, organs, topics, regions, _admin, _analyst = dashboard_bench._org_tree()
    dashboard_bench._populate(n, bureau, organs, topics, regions, report)
    _link_organs(dashboard_bench.PREFIX, report)
    _give_due_dates(dashboard_bench.PREFIX, report)
    _vary_texts(dashboard_bench.PREFIX, report)
    if connection.vendor == "postgresql":
        # VACUUM too, not only ANALYZE: the bulk writes above leave the visibility map unset, so
        # no index-only scan is possible until it runs (autovacuum does it on a live server; the
        # bench must not time the pages in the state just after a bulk load).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
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
        *[(f"case list by text: {kind} ({q})", f"/cases/?q={q}") for kind, q in TEXT_QUERIES],
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
