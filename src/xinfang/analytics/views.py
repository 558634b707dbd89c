"""Analysis pages: the dashboard, drill-down lists, the metrics JSON and XLSX, reports, alerts and
deadline notices. Every figure comes from `metrics.compute_metrics` (dashboard, JSON and XLSX read
the same aggregates, so they show the same values); every list of cases goes through
`cases_visible_to` (inside `metrics.population`)."""
from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinfang.audit.log import append as audit
from xinfang.cases.access import OVERSIGHT_ROLES
from xinfang.intake.views import COUNT_CAP, LIST_PAGE_SIZE, CappedPaginator
from xinfang.orgs.models import Organ

from . import aggregates
from .metrics import (
    DEFINITION_BY_CODE, DEFINITIONS, DIMENSIONS, breakdown_q, compute_metrics, dimension_labels, metric_q, population,
)
from .models import Alert, Notice, Report, ReportKind

# Opening the dashboard rebuilds the stale days itself when there are at most this many
# (a few queries); a bigger backlog (a large import) is left to the background job.
REFRESH_ON_OPEN_MAX_DAYS = 31
RATE_FIELDS = ("received", "acc_timely", "acc_late", "acc_overdue", "done_timely", "done_late", "done_overdue",
               "evaluated", "sat_organ")


def may_analyse(user) -> bool:
    """Who may open the analysis pages: superusers and staff of an organ (each sees only the
    organs `metrics.organ_scope` allows)."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_superuser or getattr(user, "organ_id", None)))


def _require(user) -> None:
    if not may_analyse(user):
        raise PermissionDenied(_("只有机关工作人员可以查看统计分析。"))


def scope_organs(user):
    """The organs the user may choose in the organ filter."""
    if user.is_superuser:
        return Organ.objects.filter(is_active=True)
    if user.has_role(*OVERSIGHT_ROLES):
        return Organ.objects.filter(pk__in=user.organ.descendant_ids())
    return Organ.objects.filter(pk=user.organ_id)


class PeriodForm(forms.Form):
    organ = forms.ModelChoiceField(label=gettext_lazy("机关(含下级)"), queryset=Organ.objects.none(), required=False,
                                   empty_label=gettext_lazy("全部可查看机关"))
    start = forms.DateField(label=gettext_lazy("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = scope_organs(user)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"].replace(month=1, day=1)
        if data["start"] > data["end"]:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        if (data["end"] - data["start"]).days > 366 * 10:
            raise forms.ValidationError(_("统计期间不能超过十年。"))
        return data


def _period(request):
    form = PeriodForm(request.user, request.GET or None)
    if request.GET and not form.is_valid():
        return form, None
    if not request.GET:
        form = PeriodForm(request.user, {})
        form.is_valid()
    d = form.cleaned_data
    return form, (d.get("organ"), d["start"], d["end"])


def _query(organ, start, end, **extra) -> str:
    params = {"start": start.isoformat(), "end": end.isoformat(), **extra}
    if organ is not None:
        params["organ"] = organ.pk
    return urlencode(params)


def drill_url(organ, start, end, **extra) -> str:
    return reverse("analytics:cases") + "?" + _query(organ, start, end, **extra)


def _refresh_if_small() -> None:
    """Rebuild a few stale days now; hand a big backlog (an import, the demo) to the job queue."""
    from django.db import DatabaseError

    try:
        with transaction.atomic():
            stale = aggregates.refresh(max_days=REFRESH_ON_OPEN_MAX_DAYS)
    except DatabaseError:
        # Another request or the job is rebuilding the same days right now (unique key clash):
        # its result is as good as ours.
        return
    if stale < 0:
        from .tasks import refresh_aggregates

        refresh_aggregates()  # enqueues (runs at once when the queue is immediate)


# --------------------------------------------------------------------------- payload (JSON, dashboard, export)


def payload(user, organ, start: dt.date, end: dt.date) -> dict:
    """Everything the dashboard shows, from the aggregates (also the JSON endpoint's body)."""
    metrics = compute_metrics(user, organ=organ, start=start, end=end, fast=True)
    out = {"organ": organ.pk if organ else None, "start": start.isoformat(), "end": end.isoformat(),
           "as_of": timezone.localtime(aggregates.last_refresh() or timezone.now()).isoformat(timespec="seconds"),
           "metrics": {}, "breakdowns": {}, "trend": {}}
    for code, m in metrics.items():
        item = m.as_dict()
        item["url"] = drill_url(organ, start, end, metric=code, kind="numerator")
        item["denominator_url"] = drill_url(organ, start, end, metric=code, kind="denominator")
        out["metrics"][code] = item
    groups = aggregates.breakdowns(user, organ=organ, start=start, end=end, fields=RATE_FIELDS)
    for dim in DIMENSIONS:
        values = groups.get(dim, {})
        labels = dimension_labels(dim, values.keys())
        rows = []
        for key, counts in sorted(values.items(), key=lambda kv: -kv[1]["received"]):
            if not counts["received"]:
                continue
            acc_den = counts["acc_timely"] + counts["acc_late"] + counts["acc_overdue"]
            done_den = counts["done_timely"] + counts["done_late"] + counts["done_overdue"]
            rows.append({
                "key": key, "label": labels.get(key) or _("未填写"), "received": counts["received"],
                "timely_acceptance": round(counts["acc_timely"] / acc_den, 6) if acc_den else None,
                "on_time_completion": round(counts["done_timely"] / done_den, 6) if done_den else None,
                "satisfaction_organ": round(counts["sat_organ"] / counts["evaluated"], 6) if counts["evaluated"] else None,
                "url": drill_url(organ, start, end, dim=dim, key=key),
            })
        out["breakdowns"][dim] = rows
    grain, points = aggregates.trend(user, organ=organ, start=start, end=end, fields=RATE_FIELDS)
    trend_points = []
    for label, counts in points:
        if grain == "day":
            p_start = p_end = dt.date.fromisoformat(label)
        else:
            p_start = dt.date.fromisoformat(label + "-01")
            p_end = min(end, aggregates._next_month(p_start) - dt.timedelta(days=1))
            p_start = max(start, p_start)
        acc_den = counts["acc_timely"] + counts["acc_late"] + counts["acc_overdue"]
        done_den = counts["done_timely"] + counts["done_late"] + counts["done_overdue"]
        trend_points.append({
            "period": label, "received": counts["received"],
            "timely_acceptance": round(counts["acc_timely"] / acc_den, 6) if acc_den else None,
            "on_time_completion": round(counts["done_timely"] / done_den, 6) if done_den else None,
            "satisfaction_organ": round(counts["sat_organ"] / counts["evaluated"], 6) if counts["evaluated"] else None,
            "url": drill_url(None if organ is None else organ, p_start, p_end, metric="received", kind="numerator"),
        })
    out["trend"] = {"grain": grain, "points": trend_points}
    out["labels"] = {
        "received": _("信访量"), "timely_acceptance": _("及时受理率"), "on_time_completion": _("按期办结率"),
        "satisfaction_organ": _("满意率"), "trend": _("信访量趋势"), **{k: str(v) for k, v in DIMENSIONS.items()},
    }
    return out


# --------------------------------------------------------------------------- pages


@login_required
def dashboard(request):
    """The dashboard: the metric tiles (each number links to its cases) and the charts, which
    static/analytics/dashboard.js draws from the JSON endpoint (no inline script: strict CSP)."""
    _require(request.user)
    form, period = _period(request)
    if period is None:
        return render(request, "analytics/dashboard.html", {"form": form, "tiles": []}, status=400)
    organ, start, end = period
    _refresh_if_small()
    metrics = compute_metrics(request.user, organ=organ, start=start, end=end, fast=True)
    tiles = []
    for d in DEFINITIONS:
        m = metrics[d.code]
        tiles.append({
            "metric": m, "url": drill_url(organ, start, end, metric=d.code, kind="numerator"),
            "den_url": drill_url(organ, start, end, metric=d.code, kind="denominator"),
            "buckets": [(m.bucket_labels[b], n, drill_url(organ, start, end, metric=d.code, kind=b)) for b, n in m.buckets.items()],
        })
    api = reverse("analytics:api_metrics") + "?" + _query(organ, start, end)
    export = reverse("analytics:export") + "?" + _query(organ, start, end)
    return render(request, "analytics/dashboard.html", {
        "form": form, "tiles": tiles, "api_url": api, "export_url": export, "organ": organ, "start": start, "end": end,
        "stale": aggregates.stale_days(), "as_of": aggregates.last_refresh(),
    })


@login_required
def api_metrics(request):
    """GET /analytics/api/metrics?organ=&start=&end= → the dashboard's figures as JSON."""
    _require(request.user)
    form, period = _period(request)
    if period is None:
        return JsonResponse({"errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
    organ, start, end = period
    _refresh_if_small()
    return JsonResponse(payload(request.user, organ, start, end), json_dumps_params={"ensure_ascii": False})


@login_required
def export(request):
    """The dashboard's figures as an XLSX workbook (the same values as the page and the JSON)."""
    from .exports import metrics_workbook

    _require(request.user)
    form, period = _period(request)
    if period is None:
        raise Http404
    organ, start, end = period
    _refresh_if_small()
    data = metrics_workbook(request.user, organ, start, end)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="metrics-{start}-{end}.xlsx"'
    return response


@login_required
def drilldown(request):
    """The cases behind one number: ?metric=&kind= (numerator, denominator or a bucket) or
    ?dim=&key= (one slice of a breakdown), for the same organ and period."""
    _require(request.user)
    form, period = _period(request)
    if period is None:
        raise Http404
    organ, start, end = period
    cases = population(request.user, organ=organ, start=start, end=end)
    code, kind = request.GET.get("metric"), request.GET.get("kind") or "numerator"
    dim, key = request.GET.get("dim"), request.GET.get("key", "")
    if code:
        definition = DEFINITION_BY_CODE.get(code)
        if definition is None:
            raise Http404
        cases = cases.filter(metric_q(code, kind))  # the same condition Metric.cases(kind) uses
        buckets = {b: label for b, label, _c in definition.buckets}
        what = {"numerator": _("分子"), "denominator": _("分母")}.get(kind) or buckets.get(kind, kind)
        title = f"{definition.label} · {what}"
    elif dim in DIMENSIONS:
        try:
            cases = cases.filter(breakdown_q(dim, key))
        except ValueError:
            raise Http404 from None
        name = dimension_labels(dim, [key]).get(key) or _("未填写")
        title = f"{DIMENSIONS[dim]} · {name}"
    else:
        title = _("信访总量")
    cases = cases.select_related("current_organ").prefetch_related("petitioners").order_by("-received_at", "-id")
    page = CappedPaginator(cases, LIST_PAGE_SIZE, cap=COUNT_CAP).get_page(request.GET.get("page"))
    return render(request, "analytics/drilldown.html", {
        "title": title, "page_obj": page, "cases": page.object_list, "organ": organ, "start": start, "end": end,
        "back": reverse("analytics:dashboard") + "?" + _query(organ, start, end),
    })


@login_required
@require_POST
def refresh_now(request):
    """Rebuild the stale aggregates now (on demand)."""
    _require(request.user)
    n = aggregates.refresh()
    messages.success(request, _("统计数据已更新(%(n)s 行)。") % {"n": max(n, 0)})
    return redirect(request.POST.get("next") or reverse("analytics:dashboard"))


# --------------------------------------------------------------------------- reports


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("报告类型"), choices=ReportKind.choices)
    organ = forms.ModelChoiceField(label=gettext_lazy("机关(含下级)"), queryset=Organ.objects.none(), required=False,
                                   empty_label=gettext_lazy("全部可查看机关"))
    period = forms.CharField(label=gettext_lazy("期间"), required=False,
                             help_text=gettext_lazy("如 2026-05(月)、2026-Q2(季)、2026(年)、2026-05-25(所在周);留空为上一期"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = scope_organs(user)


def may_report(user) -> bool:
    """Reports cover an organ's whole subtree, so they are for superusers and the oversight
    roles (督查员, 领导, 分析员), who see that subtree anyway."""
    return bool(user.is_superuser or (getattr(user, "organ_id", None) and user.has_role(*OVERSIGHT_ROLES)))


def reports_visible_to(user):
    """Reports of organs in the user's subtree (organ-less reports: superusers only)."""
    qs = Report.objects.select_related("organ")
    if user.is_superuser:
        return qs
    if not may_report(user):
        return qs.none()
    return qs.filter(organ_id__in=list(user.organ.descendant_ids()))


@login_required
def reports(request):
    from .reports import ReportError, generate_report, parse_period

    _require(request.user)
    if not may_report(request.user):
        raise PermissionDenied(_("分析报告仅供督查员、领导和分析员查看。"))
    form = ReportForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind, organ = form.cleaned_data["kind"], form.cleaned_data["organ"]
        if organ is None and not request.user.is_superuser:
            organ = request.user.organ
        try:
            start, end = parse_period(kind, form.cleaned_data["period"])
            with transaction.atomic():
                report = generate_report(kind, organ=organ, start=start, end=end, user=request.user)
                audit(request.user, "analytics.report", report, kind=kind, start=start.isoformat(), end=end.isoformat())
        except ReportError as exc:
            form.add_error("period", str(exc))
        else:
            messages.success(request, _("已生成:%(title)s") % {"title": report.title})
            return redirect("analytics:reports")
    return render(request, "analytics/reports.html", {"form": form, "reports": reports_visible_to(request.user)[:100]})


@login_required
def report_download(request, pk: int, fmt: str):
    _require(request.user)
    report = get_object_or_404(reports_visible_to(request.user), pk=pk)
    f = {"docx": report.docx, "xlsx": report.xlsx}.get(fmt)
    if not f:
        raise Http404
    audit(request.user, "analytics.report_download", report, fmt=fmt)
    return FileResponse(f.open("rb"), as_attachment=True, filename=f"{report.title}.{fmt}")


# --------------------------------------------------------------------------- alerts and notices


def alerts_visible_to(user):
    """Alerts with at least one case the user may see (the page lists only those cases)."""
    from django.db.models import Exists, OuterRef

    from xinfang.cases.access import cases_visible_to

    qs = Alert.objects.select_related("organ", "acknowledged_by")
    if user.is_superuser:
        return qs
    links = Alert.cases.through.objects.filter(alert_id=OuterRef("pk"), case_id__in=cases_visible_to(user).values("pk"))
    return qs.filter(Exists(links))


@login_required
def alerts(request):
    from xinfang.cases.access import cases_visible_to

    from .hot import hot_topics

    _require(request.user)
    show = request.GET.get("show", "open")
    qs = alerts_visible_to(request.user)
    if show == "open":
        qs = qs.filter(acknowledged_at__isnull=True)
    items = list(qs[:200])
    visible = set(cases_visible_to(request.user).filter(pk__in=[c for a in items for c in a.cases.values_list("pk", flat=True)])
                  .values_list("pk", flat=True))
    rows = []
    for a in items:
        rows.append({"alert": a, "cases": [c for c in a.cases.all().only("pk", "number", "title") if c.pk in visible][:20]})
    organ = None if request.user.is_superuser else request.user.organ
    topics = hot_topics(request.user, organ=organ, limit=10)
    return render(request, "analytics/alerts.html", {"rows": rows, "show": show, "topics": topics})


@login_required
@require_POST
def alert_ack(request, pk: int):
    _require(request.user)
    alert = get_object_or_404(alerts_visible_to(request.user), pk=pk)
    note = (request.POST.get("note") or "").strip()[:500]
    with transaction.atomic():
        updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=request.user, acknowledged_at=timezone.now(), ack_note=note)
        if updated:
            audit(request.user, "analytics.alert_ack", alert, kind=alert.kind, note=note)
    if updated:
        messages.success(request, _("预警已确认。"))
    else:
        messages.info(request, _("该预警已由他人确认。"))
    return redirect(reverse("analytics:alerts"))


@login_required
def notices(request):
    """Deadline reminders (临期/超期) sent to the user's organ."""
    _require(request.user)
    qs = Notice.objects.select_related("case")
    if not request.user.is_superuser:
        qs = qs.filter(organ_id=request.user.organ_id)
    if request.method == "POST":
        qs.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("analytics:notices")
    return render(request, "analytics/notices.html", {"notices": qs[:200]})
