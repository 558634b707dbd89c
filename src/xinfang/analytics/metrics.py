"""The petition-work metrics of REGULATION.md §7, for any organ subtree and period.

One definition per counter (`COUNTERS`: a Q on Case), used three ways so the numbers always agree:
- `compute_metrics(...)` counts them live over the cases (exact; JSON, exports, tests);
- `xinfang.analytics.aggregates` counts them once per day into `DailyStat` so dashboards over a
  million cases read a few thousand rows (`compute_metrics(..., fast=True)`);
- `Metric.cases(kind)` turns the same Q into the drill-down list of cases.

Which cases a figure covers (docs/metrics.md has every formula):
- the period selects cases by the local date they were received (收到日期), `start`..`end` inclusive;
- the organ subtree selects cases by their *responsible organ* (责任机关): the handling organ once a
  case is accepted, otherwise the organ that holds it now;
- only cases visible to the user count (`cases_visible_to`); a user picks among the organs whose
  numbers they may see (`organ_scope`): oversight roles (督查员, 领导, 分析员) their organ's subtree,
  other staff their own organ, superusers every organ.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from django.db.models import Case as When_, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases.access import OVERSIGHT_ROLES, cases_visible_to
from xinfang.cases.models import Case, Category, Channel, Closure, Event, Satisfaction, State
from xinfang.cases.workflow import HANDLING_RULES  # 60-day, 交办 and 简易办理 limits
from xinfang.deadlines.models import Deadline
from xinfang.orgs.models import Organ

SATISFIED = [Satisfaction.SATISFIED, Satisfaction.BASIC]
# Closures on the merits: the organ answered the petitioner (not 不予受理 or 告知其他途径).
MERIT_CLOSURES = [Closure.REPLIED, Closure.REVIEWED, Closure.RE_REVIEWED]
# Timeline actions recording a 调解协议书/和解协议书 (Art.33), written by the mediation app.
MEDIATION_ACTIONS = ["mediation_agreement", "settlement_agreement"]


def _tz():
    return timezone.get_current_timezone()


# --------------------------------------------------------------------------- counters (Q on Case)


def _latest(rules: list[str]) -> QuerySet[Deadline]:
    """The case's latest deadline among `rules` (an objection that is refused opens a second
    acceptance limit; the last one decides)."""
    later = Deadline.objects.filter(case_id=OuterRef("case_id"), rule_id__in=rules, pk__gt=OuterRef("pk"))
    return Deadline.objects.filter(case_id=OuterRef("pk"), rule_id__in=rules).exclude(Exists(later))


def _deadline_q(rules: list[str], bucket: str, today: dt.date) -> Q:
    """Cases whose latest `rules` deadline is met on time / met late / open and overdue. A limit
    with no date (pending: its year's calendar is missing) is never overdue (REGULATION §4)."""
    qs = _latest(rules)
    if bucket == "timely":
        qs = qs.filter(met_at__isnull=False).annotate(met_day=TruncDate("met_at", tzinfo=_tz())).filter(
            Q(due_on__isnull=True) | Q(met_day__lte=F("due_on")))
    elif bucket == "late":
        qs = qs.filter(met_at__isnull=False, due_on__isnull=False).annotate(
            met_day=TruncDate("met_at", tzinfo=_tz())).filter(met_day__gt=F("due_on"))
    elif bucket == "overdue":
        qs = qs.filter(met_at__isnull=True, is_open=True, due_on__lt=today)
    else:  # pragma: no cover
        raise ValueError(bucket)
    return Q(Exists(qs))


def _repeat_q() -> Q:
    """A repeat petition: registered as relating to an earlier case, or linked to one as 重复信访 by
    duplicate detection and confirmed by staff."""
    q = Q(related_case__isnull=False)
    try:
        from xinfang.dedup.models import Kind, Link, Status
    except ImportError:  # pragma: no cover - dedup is part of the project
        return q
    return q | Q(Exists(Link.objects.filter(case_id=OuterRef("pk"), kind=Kind.REPEAT, status=Status.CONFIRMED)))


def _repeated_later_q() -> Q:
    """Some later case repeats this one (registered relation or confirmed 重复信访 link)."""
    q = Q(Exists(Case.objects.filter(related_case_id=OuterRef("pk"))))
    try:
        from xinfang.dedup.models import Kind, Link, Status
    except ImportError:  # pragma: no cover
        return q
    return q | Q(Exists(Link.objects.filter(earlier_id=OuterRef("pk"), kind=Kind.REPEAT, status=Status.CONFIRMED)))


def _review_requested_q() -> Q:
    """The petitioner asked for 复查 (Art.35): the timeline says so, or (imported history) a
    review outcome is recorded."""
    return ~Q(review_outcome="") | Q(Exists(Event.objects.filter(case_id=OuterRef("pk"), action="request_review")))


def _mediation_q() -> Q:
    """A 调解协议书 or 和解协议书 was reached (Art.33): a mediation of the case (mediation app) ended
    in 达成调解协议 or 达成和解协议; or, for records made before that app or imported, the timeline
    has an event named in MEDIATION_ACTIONS."""
    q = Q(Exists(Event.objects.filter(case_id=OuterRef("pk"), action__in=MEDIATION_ACTIONS)))
    try:
        from xinfang.mediation.models import AGREEMENTS, Mediation
    except ImportError:  # pragma: no cover - the mediation app is part of the project
        return q
    return q | Q(Exists(Mediation.objects.filter(case_id=OuterRef("pk"), status__in=list(AGREEMENTS))))


def counters(today: dt.date | None = None) -> dict[str, Q]:
    """Every counter behind the metrics, as a condition on Case. `today` decides what is overdue."""
    today = today or timezone.localdate()
    replied = Q(replied_at__isnull=False)
    first_closed = ~_repeat_q() & Q(state=State.CLOSED, closure__in=MERIT_CLOSURES)
    resolved = ~_review_requested_q() & ~Q(satisfaction_organ=Satisfaction.UNSATISFIED)
    mediated = _mediation_q()
    handled_claim = Q(category=Category.CLAIM) & (replied | mediated)
    return {
        "received": Q(),
        "online": Q(channel=Channel.ONLINE),
        "visits": Q(channel=Channel.VISIT),
        "skip_visits": Q(channel=Channel.VISIT, skip_level=True),
        "repeat": _repeat_q(),
        "acc_timely": _deadline_q(["accept"], "timely", today),
        "acc_late": _deadline_q(["accept"], "late", today),
        "acc_overdue": _deadline_q(["accept"], "overdue", today),
        "done_timely": _deadline_q(list(HANDLING_RULES), "timely", today),
        "done_late": _deadline_q(list(HANDLING_RULES), "late", today),
        "done_overdue": _deadline_q(list(HANDLING_RULES), "overdue", today),
        "replied": replied,
        "evaluated": replied & ~Q(satisfaction_organ=""),
        "sat_organ": replied & Q(satisfaction_organ__in=SATISFIED),
        "eval_bureau": replied & ~Q(satisfaction_bureau=""),
        "sat_bureau": replied & Q(satisfaction_bureau__in=SATISFIED),
        "first_closed": first_closed,
        "first_resolved": first_closed & resolved & ~_repeated_later_q(),
        "claim_handled": handled_claim,
        "mediated": Q(category=Category.CLAIM) & mediated,
        "assigned": Q(route_kind="assign"),
        "assigned_resolved": Q(route_kind="assign") & replied & resolved,
    }


# The names of `counters()`, in order (a literal: models.py builds its columns from it at import).
COUNTER_NAMES = [
    "received", "online", "visits", "skip_visits", "repeat", "acc_timely", "acc_late", "acc_overdue",
    "done_timely", "done_late", "done_overdue", "replied", "evaluated", "sat_organ", "eval_bureau", "sat_bureau",
    "first_closed", "first_resolved", "claim_handled", "mediated", "assigned", "assigned_resolved",
]


# --------------------------------------------------------------------------- the metrics


@dataclass(frozen=True)
class Definition:
    code: str
    label: str
    numerator: str  # counter name
    denominator: tuple[str, ...] = ()  # counter names summed; empty for a plain count
    buckets: tuple[tuple[str, str, str], ...] = ()  # (bucket code, label, counter)


DEFINITIONS = [
    Definition("received", _("信访总量"), "received"),
    Definition("timely_acceptance", _("及时受理率"), "acc_timely", ("acc_timely", "acc_late", "acc_overdue"),
               (("timely", _("及时受理"), "acc_timely"), ("late", _("超期受理"), "acc_late"),
                ("overdue", _("超期未受理"), "acc_overdue"))),
    Definition("on_time_completion", _("按期办结率"), "done_timely", ("done_timely", "done_late", "done_overdue"),
               (("timely", _("按期办结"), "done_timely"), ("late", _("超期办结"), "done_late"),
                ("overdue", _("超期未办结"), "done_overdue"))),
    Definition("participation", _("参评率"), "evaluated", ("replied",)),
    Definition("satisfaction_organ", _("满意率(承办机关)"), "sat_organ", ("evaluated",)),
    Definition("satisfaction_bureau", _("满意率(信访部门)"), "sat_bureau", ("eval_bureau",)),
    Definition("first_resolution", _("一次性化解率"), "first_resolved", ("first_closed",)),
    Definition("repeat_rate", _("重复信访率"), "repeat", ("received",)),
    Definition("skip_level_rate", _("越级走访率"), "skip_visits", ("visits",)),
    Definition("online_share", _("网上信访占比"), "online", ("received",)),
    Definition("mediation_rate", _("调解协议率"), "mediated", ("claim_handled",)),
    Definition("assigned_resolution", _("交办件化解率"), "assigned_resolved", ("assigned",)),
]
DEFINITION_BY_CODE = {d.code: d for d in DEFINITIONS}


@dataclass
class Metric:
    """One figure: `numerator` ÷ `denominator` = `rate` (None when the denominator is 0; a plain
    count has denominator None). `buckets` splits the denominator (e.g. 及时/超期受理/超期未受理).
    `cases(kind)` is the drill-down: kind "numerator", "denominator" or a bucket code."""

    code: str
    label: str
    numerator: int
    denominator: int | None
    buckets: dict[str, int] = field(default_factory=dict)
    bucket_labels: dict[str, str] = field(default_factory=dict)
    _queryset: Callable[[str], QuerySet[Case]] | None = field(default=None, repr=False)

    @property
    def rate(self) -> float | None:
        if self.denominator is None or self.denominator == 0:
            return None
        return self.numerator / self.denominator

    @property
    def percent(self) -> str:
        rate = self.rate
        return "—" if rate is None else f"{rate * 100:.2f}%"

    def cases(self, kind: str = "numerator") -> QuerySet[Case]:
        if self._queryset is None:  # pragma: no cover
            raise ValueError("no drill-down")
        return self._queryset(kind)

    def as_dict(self) -> dict:
        return {"code": self.code, "label": str(self.label), "numerator": self.numerator,
                "denominator": self.denominator, "rate": None if self.rate is None else round(self.rate, 6),
                "buckets": dict(self.buckets)}


def metric_q(code: str, kind: str, today: dt.date | None = None) -> Q:
    """The condition on Case behind metric `code`'s numerator, denominator or one bucket."""
    d = DEFINITION_BY_CODE[code]
    qs = counters(today)
    if kind == "numerator":
        return qs[d.numerator]
    if kind == "denominator":
        names = d.denominator or (d.numerator,)
        q = Q(pk__in=[])
        for name in names:
            q |= qs[name]
        return q
    for bucket, _label, counter in d.buckets:
        if bucket == kind:
            return qs[counter]
    raise Http404(kind)


# --------------------------------------------------------------------------- scope and population


def organ_scope(user, organ: Organ | None = None) -> set[int] | None:
    """Ids of the organs whose numbers `user` asks for (None: every organ, superusers only).
    An organ outside what the user may see is reported as missing (Http404)."""
    if getattr(user, "is_superuser", False):
        return None if organ is None else organ.descendant_ids()
    if not getattr(user, "is_authenticated", False) or not getattr(user, "organ_id", None):
        return set()
    if user.has_role(*OVERSIGHT_ROLES):
        allowed = user.organ.descendant_ids()
        if organ is None:
            return allowed
        if organ.pk not in allowed:
            raise Http404("organ")
        return organ.descendant_ids() & allowed
    if organ is not None and organ.pk != user.organ_id:
        raise Http404("organ")
    return {user.organ_id}


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in local time: the received_at range of a period."""
    tz = _tz()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return lo, hi


def responsible_organ():
    """The expression of a case's responsible organ (责任机关)."""
    return Coalesce("handling_organ_id", "current_organ_id")


def accused_key():
    """The accused organ of a 检举控告 case (0 otherwise): such a case never counts for the
    accused organ's own staff (Art.30 ¶3, as in cases_visible_to)."""
    return When_(When(category=Category.REPORT, accused_organ_id__isnull=False, then=F("accused_organ_id")),
                 default=Value(0), output_field=IntegerField())


def population(user, *, organ: Organ | None = None, start: dt.date, end: dt.date) -> QuerySet[Case]:
    """The cases a figure for (user, organ subtree, period) counts."""
    lo, hi = day_bounds(start, end)
    qs = (cases_visible_to(user).filter(received_at__gte=lo, received_at__lt=hi)
          .annotate(responsible_organ=responsible_organ()))
    scope = organ_scope(user, organ)
    if scope is not None:
        qs = qs.filter(responsible_organ__in=scope)
    return qs


# --------------------------------------------------------------------------- compute


def _build(values: dict[str, int], base: Callable[[], QuerySet[Case]], today: dt.date) -> dict[str, Metric]:
    out = {}
    for d in DEFINITIONS:
        den = sum(values[n] for n in d.denominator) if d.denominator else None

        def queryset(kind, code=d.code):
            return base().filter(metric_q(code, kind, today))

        out[d.code] = Metric(d.code, d.label, values[d.numerator], den,
                             {b: values[c] for b, _l, c in d.buckets}, {b: lab for b, lab, _c in d.buckets}, queryset)
    return out


def compute_metrics(user, *, organ: Organ | None = None, start: dt.date, end: dt.date, fast: bool = False,
                    today: dt.date | None = None) -> dict[str, Metric]:
    """Every metric of REGULATION §7 for `user`, `organ`'s subtree (None: all the user may see)
    and cases received from `start` to `end` (inclusive). With fast=True the figures are read
    from the daily aggregates (dashboards): equal to the live figures once the aggregates are
    refreshed (`aggregates.refresh`). Drill-downs (`Metric.cases`) always query the cases."""
    today = today or timezone.localdate()

    def base():
        return population(user, organ=organ, start=start, end=end)

    if fast:
        from . import aggregates

        values = aggregates.sum_counters(user, organ=organ, start=start, end=end)
    else:
        from django.db.models import Count

        qs = counters(today)
        values = base().aggregate(**{name: Count("pk", filter=q) if q else Count("pk") for name, q in qs.items()})
    return _build(values, base, today)


# --------------------------------------------------------------------------- breakdowns


DIMENSIONS = {
    "channel": _("信访形式"),
    "category": _("信访类别"),
    "topic": _("问题分类"),
    "organ": _("责任机关"),
    "region": _("问题属地"),
}


def dimension_labels(dim: str, keys) -> dict[str, str]:
    """Display names of the keys of a breakdown."""
    from xinfang.cases.models import Topic
    from xinfang.orgs.models import Region

    keys = [k for k in keys if k not in (None, "", "0")]
    if dim == "channel":
        return {k: str(Channel(k).label) for k in keys if k in Channel.values}
    if dim == "category":
        return {k: str(Category(k).label) for k in keys if k in Category.values}
    model = {"topic": Topic, "region": Region, "organ": Organ}[dim]
    qs = model.objects.filter(pk__in=[int(k) for k in keys])
    if dim == "topic":
        qs = qs.select_related("parent")  # a topic is named with its parent (城乡建设 › 物业管理)
    return {str(o.pk): (o.name if dim != "topic" else str(o)) for o in qs}


def breakdown_q(dim: str, key: str) -> Q:
    """The condition selecting one slice of a breakdown (drill-down of a count)."""
    if key in ("", "0", None):
        field_ = {"channel": "channel", "category": "category", "topic": "topic_id", "region": "region_id",
                  "organ": "handling_organ_id"}[dim]
        return Q(**{f"{field_}__isnull": True}) if dim in ("topic", "region") else Q(pk__in=[])
    if dim == "channel":
        return Q(channel=key)
    if dim == "category":
        return Q(category=key)
    if dim == "topic":
        return Q(topic_id=int(key))
    if dim == "region":
        return Q(region_id=int(key))
    if dim == "organ":
        return Q(responsible_organ=int(key))
    raise Http404(dim)


def live_breakdowns(user, *, organ=None, start, end) -> dict[str, dict[str, int]]:
    """{dimension: {key: cases received}} counted over the cases (tests compare it with the
    aggregates)."""
    from django.db.models import Count

    base = population(user, organ=organ, start=start, end=end)
    fields = {"channel": "channel", "category": "category", "topic": "topic_id", "region": "region_id",
              "organ": "responsible_organ"}
    out = {}
    for dim, f in fields.items():
        out[dim] = {("" if r[f] is None else str(r[f])): r["n"] for r in base.values(f).annotate(n=Count("pk")).order_by()}
    return out


def local_day(expr: str = "received_at"):
    return TruncDate(expr, tzinfo=_tz())
