"""Hot topics (热点问题) and early warning (预警).

Hot topics: the recent cases (default 30 days) are grouped into issues by their text — character
1–2-gram TF-IDF vectors of title and content, grouped by DBSCAN on cosine distance (cases closer
than `EPS` chain into one issue; an issue needs `MIN_CASES`). Each issue gets a heat index

    heat = cases + 0.5 × petitioners + 2 × repeats + 5 × max(growth, 0)

where petitioners is the sum of head counts, repeats the repeat petitions among the cases, and
growth = (cases of the last 7 days − weekly rate before) ÷ max(weekly rate before, 1).

Alerts (`detect_alerts`, a scheduled job; idempotent: each alert has a unique key and re-running
adds only new cases to an open alert):
- surge: a topic or region with at least SURGE_MIN cases in the last 7 days and at least
  SURGE_RATIO × its weekly average over the 8 weeks before;
- group: a likely group petition — one issue (text group) of the last 72 hours with at least
  GROUP_MIN_PEOPLE distinct petitioners in at least 2 cases, or one case of ≥ GROUP_MIN_PEOPLE;
- repeat: a petitioner (same ID number, else same phone) with at least REPEAT_MIN cases in 90 days;
- overdue_risk: per organ and day, the open cases whose running limit is in its 临期 window.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases.access import cases_visible_to
from xinfang.cases.models import OPEN_STATES, Case, Petitioner

from .metrics import _repeat_q, day_bounds, organ_scope, responsible_organ
from .models import Alert, AlertKind

EPS = 0.7  # cosine distance under which two cases are "the same matter" (unrelated texts: ~0.95)
MIN_CASES = 3
MAX_CASES = 3000  # the most recent cases considered (clustering is quadratic)
SURGE_MIN, SURGE_RATIO, SURGE_WEEKS = 5, 2.0, 8
GROUP_MIN_PEOPLE, GROUP_HOURS = 5, 72
REPEAT_MIN, REPEAT_DAYS = 3, 90


def _text(case: dict) -> str:
    return f"{case['title']} {case['title']} {(case['content'] or '')[:300]}"


def cluster(texts: list[str], *, eps: float = EPS, min_cases: int = MIN_CASES) -> list[list[int]]:
    """Groups of indexes of `texts` that speak of the same matter (largest first)."""
    if len(texts) < min_cases:
        return []
    from sklearn.cluster import DBSCAN
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), min_df=1, sublinear_tf=True).fit_transform(texts)
    labels = DBSCAN(eps=eps, min_samples=min_cases, metric="cosine").fit_predict(vectors)
    groups: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        if label >= 0:
            groups[label].append(i)
    return sorted(groups.values(), key=len, reverse=True)


def _central_title(rows: list[dict], idx: list[int]) -> str:
    """The most common title of the group, else the first case's title."""
    counts = Counter(rows[i]["title"] for i in idx)
    return counts.most_common(1)[0][0]


def hot_topics(user, *, organ=None, days: int = 30, limit: int = 10, today: dt.date | None = None) -> list[dict]:
    """The hottest issues among the recent cases `user` may see (in `organ`'s subtree)."""
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=days - 1)
    lo, hi = day_bounds(start, today)
    qs = cases_visible_to(user).filter(received_at__gte=lo, received_at__lt=hi)
    if organ is not None or not getattr(user, "is_superuser", False):
        scope = organ_scope(user, organ)
        if scope is not None:
            qs = qs.annotate(resp=responsible_organ()).filter(resp__in=scope)
    rows = list(qs.annotate(is_repeat=Count("pk", filter=_repeat_q()))
                .order_by("-received_at").values("pk", "number", "title", "content", "head_count", "received_at", "is_repeat")[:MAX_CASES])
    return _score(rows, today, limit)


def _score(rows: list[dict], today: dt.date, limit: int, days: int = 30) -> list[dict]:
    out = []
    week_ago = today - dt.timedelta(days=6)
    for idx in cluster([_text(r) for r in rows]):
        members = [rows[i] for i in idx]
        n = len(members)
        people = sum(r["head_count"] or 1 for r in members)
        repeats = sum(1 for r in members if r["is_repeat"])
        recent = sum(1 for r in members if timezone.localdate(r["received_at"]) >= week_ago)
        before_weeks = max((days - 7) / 7, 1)
        base = (n - recent) / before_weeks
        growth = (recent - base) / max(base, 1)
        heat = n + 0.5 * people + 2 * repeats + 5 * max(growth, 0)
        out.append({
            "label": _central_title(rows, idx), "count": n, "petitioners": people, "repeats": repeats,
            "growth": round(growth, 2), "heat": round(heat, 2),
            "cases": [{"pk": r["pk"], "number": r["number"]} for r in members],
        })
    out.sort(key=lambda t: -t["heat"])
    return out[:limit]


# --------------------------------------------------------------------------- alerts


def _raise(kind: str, key: str, *, title: str, detail: str, case_ids, organ_id=None, level: int = 1,
           score: float = 0, data=None) -> bool:
    """Create the alert `key` or add new cases to it. True when it was created."""
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(key=key, defaults=dict(
            kind=kind, title=title[:200], detail=detail, organ_id=organ_id, level=level, score=score, data=data or {}))
        if not created:
            Alert.objects.filter(pk=alert.pk).update(score=max(score, alert.score))
        alert.cases.add(*list(case_ids))
    return created


def _majority_organ(case_ids) -> int | None:
    row = (Case.objects.filter(pk__in=list(case_ids)).annotate(resp=responsible_organ()).values("resp")
           .annotate(n=Count("pk")).order_by("-n").first())
    return row["resp"] if row else None


def detect_surges(today: dt.date) -> int:
    created = 0
    recent_start = today - dt.timedelta(days=6)
    base_start = recent_start - dt.timedelta(weeks=SURGE_WEEKS)
    lo, hi = day_bounds(base_start, today)
    split = day_bounds(recent_start, today)[0]
    week = today.isocalendar()
    for dim, field, label_of in (("topic", "topic_id", "topic__name"), ("region", "region_id", "region__name")):
        rows = (Case.objects.filter(received_at__gte=lo, received_at__lt=hi).exclude(**{f"{field}__isnull": True})
                .values(field, label_of).order_by()
                .annotate(recent=Count("pk", filter=Q(received_at__gte=split)), before=Count("pk", filter=Q(received_at__lt=split))))
        for r in rows:
            baseline = r["before"] / SURGE_WEEKS
            if r["recent"] >= SURGE_MIN and r["recent"] >= SURGE_RATIO * baseline:
                ids = list(Case.objects.filter(**{field: r[field]}, received_at__gte=split, received_at__lt=hi)
                           .values_list("pk", flat=True)[:500])
                what = _("问题分类") if dim == "topic" else _("地区")
                title = _("%(what)s“%(name)s”近7日%(n)s件,为前8周周均%(base)s件的%(x)s倍") % {
                    "what": what, "name": r[label_of], "n": r["recent"], "base": round(baseline, 1),
                    "x": "∞" if baseline == 0 else round(r["recent"] / baseline, 1)}
                created += _raise(AlertKind.SURGE, f"surge:{dim}:{r[field]}:{week[0]}-W{week[1]:02d}", title=title,
                                  detail=_("较基线明显增多,请研判原因、排查是否有群体性苗头。"), case_ids=ids,
                                  organ_id=_majority_organ(ids), level=3 if baseline and r["recent"] >= 4 * baseline else 2,
                                  score=r["recent"], data={"dim": dim, "id": r[field], "recent": r["recent"], "baseline": baseline})
    return created


def detect_groups(now: dt.datetime) -> int:
    created = 0
    since = now - dt.timedelta(hours=GROUP_HOURS)
    rows = list(Case.objects.filter(received_at__gte=since).order_by("received_at")
                .values("pk", "number", "title", "content", "head_count", "received_at")[:MAX_CASES])
    groups = [g for g in cluster([_text(r) for r in rows], min_cases=2)]
    groups += [[i] for i, r in enumerate(rows) if (r["head_count"] or 1) >= GROUP_MIN_PEOPLE]
    seen = set()
    persons: dict[int, list[str]] = defaultdict(list)
    for p in Petitioner.objects.filter(case_id__in=[r["pk"] for r in rows]).values("case_id", "name", "phone", "id_number"):
        persons[p["case_id"]].append(p["id_number"] or p["phone"] or f"{p['name']}@{p['case_id']}")
    for idx in groups:
        members = [rows[i] for i in idx]
        # Distinct petitioners across the cases (by ID number, else phone), plus the members of a
        # group visit who were counted but not registered by name.
        keys = {k for r in members for k in persons[r["pk"]]}
        people = len(keys) + sum(max(0, (r["head_count"] or 1) - len(persons[r["pk"]])) for r in members)
        if people < GROUP_MIN_PEOPLE:
            continue
        first = min(r["pk"] for r in members)
        if first in seen:
            continue
        seen.add(first)
        ids = [r["pk"] for r in members]
        title = _("“%(title)s”%(h)s小时内%(n)s件、%(p)s人") % {
            "title": _central_title(rows, idx), "h": GROUP_HOURS, "n": len(members), "p": people}
        created += _raise(AlertKind.GROUP, f"group:{first}", title=title,
                          detail=_("多人短时间内反映同一事项,疑似集体访,请提前做好接待和化解准备。"),
                          case_ids=ids, organ_id=_majority_organ(ids), level=3 if people >= 2 * GROUP_MIN_PEOPLE else 2,
                          score=people, data={"people": people})
    return created


def detect_repeaters(today: dt.date) -> int:
    created = 0
    lo, hi = day_bounds(today - dt.timedelta(days=REPEAT_DAYS - 1), today)
    recent = Petitioner.objects.filter(case__received_at__gte=lo, case__received_at__lt=hi)
    for field in ("id_number", "phone"):
        rows = (recent.exclude(**{field: ""}).values(field).order_by().annotate(n=Count("case_id", distinct=True))
                .filter(n__gte=REPEAT_MIN))
        for r in rows:
            value = r[field]
            # The key names the person by a hash: the alert table holds no identity numbers.
            digest = hashlib.sha256(f"{field}:{value}".encode()).hexdigest()[:24]
            ids = list(recent.filter(**{field: value}).values_list("case_id", flat=True).distinct())
            name = Petitioner.objects.filter(**{field: value}).values_list("name", flat=True).first() or ""
            title = _("信访人%(name)s近%(d)s日提出%(n)s件") % {"name": name[:1] + "**" if name else "", "d": REPEAT_DAYS, "n": r["n"]}
            created += _raise(AlertKind.REPEAT, f"repeat:{digest}", title=title,
                              detail=_("同一信访人反复信访,请核查是否已依法答复、是否需要领导包案或化解。"),
                              case_ids=ids, organ_id=_majority_organ(ids), level=2, score=r["n"], data={"count": r["n"]})
    return created


def detect_overdue_risk(today: dt.date) -> int:
    created = 0
    rows = (Case.objects.filter(state__in=OPEN_STATES, due_on__gte=today, due_warn_on__lte=today)
            .values("current_organ_id", "current_organ__name").order_by().annotate(n=Count("pk")))
    for r in rows:
        ids = list(Case.objects.filter(state__in=OPEN_STATES, due_on__gte=today, due_warn_on__lte=today,
                                       current_organ_id=r["current_organ_id"]).values_list("pk", flat=True)[:500])
        title = _("%(organ)s有%(n)s件即将超期") % {"organ": r["current_organ__name"], "n": r["n"]}
        created += _raise(AlertKind.OVERDUE_RISK, f"overdue_risk:{r['current_organ_id']}:{today.isoformat()}", title=title,
                          detail=_("以下事项已进入临期提醒期,请督促按期办理。"), case_ids=ids,
                          organ_id=r["current_organ_id"], level=2, score=r["n"])
    return created


def detect_alerts(now: dt.datetime | None = None) -> dict[str, int]:
    """Run every detector; returns {kind: alerts created}. Safe to run any number of times."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return {"surge": detect_surges(today), "group": detect_groups(now), "repeat": detect_repeaters(today),
            "overdue_risk": detect_overdue_risk(today)}

