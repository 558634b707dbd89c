"""Periodic reports: 周报 (weekly summary), 月研判 (monthly analysis), 季通报 (quarterly bulletin) and
the annual report (年度报告, Art.41: statistics on transfers, assignments, supervision and
proposals). Each is one DOCX (tables and PNG charts) and one XLSX, stored in `Report`.

The figures are `views.payload` — the dashboard's own numbers — computed as an oversight viewer
of the report's organ (its whole subtree), or of everything for an organ-less report.
"""
from __future__ import annotations

import calendar
import datetime as dt
import io
import re

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases.models import Case, Event
from xinfang.orgs.models import Organ, Role

from .models import Alert, Report, ReportKind


class ReportError(ValueError):
    """A request for a report that cannot be made (bad period), with a message for the user."""


class OrganViewer:
    """Sees what an oversight officer (分析员) of `organ` sees: the organ's subtree; with organ
    None, everything. Used by scheduled reports, which have no acting user."""

    is_authenticated = True
    is_active = True

    def __init__(self, organ: Organ | None):
        self.organ = organ
        self.organ_id = organ.pk if organ else None
        self.is_superuser = organ is None
        self.username = f"system:reports:{organ.code if organ else 'all'}"

    def has_role(self, *roles) -> bool:
        return Role.ANALYST in roles

    def __str__(self) -> str:
        return self.username


# --------------------------------------------------------------------------- periods


def _quarter(d: dt.date) -> int:
    return (d.month - 1) // 3 + 1


def previous_period(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last complete week (Mon–Sun), month, quarter or year before `today`."""
    if kind == ReportKind.WEEKLY:
        end = today - dt.timedelta(days=today.weekday() + 1)
        return end - dt.timedelta(days=6), end
    if kind == ReportKind.MONTHLY:
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if kind == ReportKind.QUARTERLY:
        first = dt.date(today.year, 3 * (_quarter(today) - 1) + 1, 1)
        end = first - dt.timedelta(days=1)
        return dt.date(end.year, 3 * (_quarter(end) - 1) + 1, 1), end
    if kind == ReportKind.ANNUAL:
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    raise ReportError(_("未知的报告类型。"))


def parse_period(kind: str, text: str | None, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The period a report covers: "2026-05-25" (that day's week), "2026-05", "2026-Q2", "2026";
    empty: the last complete one."""
    today = today or timezone.localdate()
    text = (text or "").strip().upper()
    if not text:
        return previous_period(kind, today)
    try:
        if kind == ReportKind.WEEKLY:
            day = dt.date.fromisoformat(text)
            start = day - dt.timedelta(days=day.weekday())
            return start, start + dt.timedelta(days=6)
        if kind == ReportKind.MONTHLY:
            m = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
            year, month = int(m.group(1)), int(m.group(2))
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        if kind == ReportKind.QUARTERLY:
            m = re.fullmatch(r"(\d{4})-?Q([1-4])", text)
            year, q = int(m.group(1)), int(m.group(2))
            end_month = 3 * q
            return dt.date(year, end_month - 2, 1), dt.date(year, end_month, calendar.monthrange(year, end_month)[1])
        if kind == ReportKind.ANNUAL:
            year = int(re.fullmatch(r"\d{4}", text).group(0))
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
    except (AttributeError, ValueError):
        pass
    examples = {ReportKind.WEEKLY: "2026-05-25", ReportKind.MONTHLY: "2026-05", ReportKind.QUARTERLY: "2026-Q2",
                ReportKind.ANNUAL: "2026"}
    raise ReportError(_("期间格式不正确,应如 %(example)s。") % {"example": examples.get(kind, "2026-05")})


def period_label(kind: str, start: dt.date, end: dt.date) -> str:
    if kind == ReportKind.WEEKLY:
        return _("%(start)s至%(end)s") % {"start": start.isoformat(), "end": end.isoformat()}
    if kind == ReportKind.MONTHLY:
        return _("%(y)s年%(m)s月") % {"y": start.year, "m": start.month}
    if kind == ReportKind.QUARTERLY:
        return _("%(y)s年第%(q)s季度") % {"y": start.year, "q": _quarter(start)}
    return _("%(y)s年") % {"y": start.year}


# --------------------------------------------------------------------------- content


def art41_statistics(viewer, organ, start: dt.date, end: dt.date) -> list[tuple[str, int]]:
    """Art.41 figures of the period: 转送, 交办, 诉访分离, 转纪检监察 (routing events), 督办函 and
    reminders, and the 三项建议 issued (documents), for the cases the viewer sees."""
    from xinfang.documents.models import DocKind, Document

    from .metrics import day_bounds, organ_scope

    lo, hi = day_bounds(start, end)
    from xinfang.cases.access import cases_visible_to

    visible = cases_visible_to(viewer)
    events = Event.objects.filter(action="route", at__gte=lo, at__lt=hi, case__in=visible.values("pk"))
    docs = Document.objects.filter(issued_at__gte=lo, issued_at__lt=hi, case__in=visible.values("pk"))
    scope = organ_scope(viewer, organ)
    if scope is not None:
        events = events.filter(organ_id__in=scope)
        docs = docs.filter(organ_id__in=scope)
    kinds = {r["data__kind"]: r["n"] for r in events.values("data__kind").order_by().annotate(n=Count("pk"))}
    doc_counts = {r["kind"]: r["n"] for r in docs.values("kind").order_by().annotate(n=Count("pk"))}
    rows = [
        (_("转送"), kinds.get("forward", 0)), (_("交办"), kinds.get("assign", 0)),
        (_("诉访分离(转政法机关)"), kinds.get("legal", 0)), (_("转纪检监察"), kinds.get("discipline", 0)),
    ]
    for kind in (DocKind.SUPERVISE, DocKind.WORK_REMINDER, DocKind.RISK_REMINDER, DocKind.IMPROVE_PROPOSAL,
                 DocKind.POLICY_PROPOSAL, DocKind.ACCOUNTABILITY_PROPOSAL):
        rows.append((str(kind.label), doc_counts.get(kind.value, 0)))
    return rows


def _docx(title: str, data: dict, *, kind: str, art41, topics, alerts, previous: int) -> bytes:
    from docx import Document as Docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    from .charts import bar_png, line_png

    doc = Docx()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    head = doc.add_heading(title, level=0)
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    m = data["metrics"]
    received = m["received"]["numerator"]
    change = "" if not previous else _(",比上期%(dir)s%(p).1f%%") % {
        "dir": _("增加") if received >= previous else _("减少"), "p": abs(received - previous) * 100 / previous}
    doc.add_paragraph(_("统计期间:%(start)s至%(end)s(按收到日期)。") % {"start": data["start"], "end": data["end"]})

    def pct(code):
        rate = m[code]["rate"]
        return "—" if rate is None else f"{rate * 100:.2f}%"

    doc.add_heading(_("一、总体情况"), level=1)
    doc.add_paragraph(_("本期共收到信访事项%(n)s件%(change)s。及时受理率%(a)s,按期办结率%(b)s,参评率%(c)s,满意率%(d)s,"
                        "一次性化解率%(e)s,重复信访率%(f)s,网上信访占比%(g)s。") % {
        "n": received, "change": change, "a": pct("timely_acceptance"), "b": pct("on_time_completion"),
        "c": pct("participation"), "d": pct("satisfaction_organ"), "e": pct("first_resolution"),
        "f": pct("repeat_rate"), "g": pct("online_share")})
    table = doc.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, (_("指标"), _("分子"), _("分母"), _("比率"))):
        cell.text = text
    for code, item in m.items():
        row = table.add_row().cells
        row[0].text = item["label"]
        row[1].text = str(item["numerator"])
        row[2].text = "" if item["denominator"] is None else str(item["denominator"])
        row[3].text = "" if item["denominator"] is None else pct(code)

    doc.add_heading(_("二、信访趋势"), level=1)
    points = data["trend"]["points"]
    doc.add_picture(io.BytesIO(line_png(_("信访量趋势"), [p["period"] for p in points], [p["received"] for p in points])),
                    width=Cm(16))
    doc.add_heading(_("三、分布情况"), level=1)
    for dim in ("channel", "category", "topic", "region", "organ"):
        rows = data["breakdowns"].get(dim, [])[:10]
        doc.add_heading(data["labels"][dim], level=2)
        if not rows:
            doc.add_paragraph(_("本期无数据。"))
            continue
        if dim in ("topic", "organ"):
            doc.add_picture(io.BytesIO(bar_png(data["labels"][dim], [r["label"] for r in rows], [r["received"] for r in rows])),
                            width=Cm(16))
        t = doc.add_table(rows=1, cols=4)
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, (data["labels"][dim], _("件数"), _("及时受理率"), _("满意率"))):
            cell.text = text
        for r in rows:
            cells = t.add_row().cells
            cells[0].text = r["label"]
            cells[1].text = str(r["received"])
            cells[2].text = "—" if r["timely_acceptance"] is None else f"{r['timely_acceptance'] * 100:.2f}%"
            cells[3].text = "—" if r["satisfaction_organ"] is None else f"{r['satisfaction_organ'] * 100:.2f}%"
    doc.add_heading(_("四、热点问题与预警"), level=1)
    if topics:
        for t in topics:
            doc.add_paragraph(_("%(label)s:%(n)s件、%(p)s人,热度%(h)s") % {
                "label": t["label"], "n": t["count"], "p": t["petitioners"], "h": t["heat"]}, style="List Bullet")
    else:
        doc.add_paragraph(_("本期未形成热点问题。"))
    for a in alerts:
        doc.add_paragraph(f"{a.get_kind_display()}:{a.title}", style="List Bullet")
    if art41 is not None:
        doc.add_heading(_("五、转送、交办、督办和建议情况(条例第41条)"), level=1)
        t = doc.add_table(rows=1, cols=2)
        t.style = "Table Grid"
        t.rows[0].cells[0].text, t.rows[0].cells[1].text = _("项目"), _("数量")
        for label, n in art41:
            cells = t.add_row().cells
            cells[0].text, cells[1].text = str(label), str(n)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _xlsx(title: str, data: dict, art41) -> bytes:
    from openpyxl import Workbook

    from .exports import fill_workbook

    wb = Workbook()
    fill_workbook(wb, data, title=title)
    if art41 is not None:
        ws = wb.create_sheet(_("第41条统计"))
        ws.append([_("项目"), _("数量")])
        for label, n in art41:
            ws.append([str(label), n])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def generate_report(kind: str, *, organ: Organ | None, start: dt.date, end: dt.date, user=None) -> Report:
    """Make (or remake) the report of `kind` for `organ`'s subtree over start..end. Idempotent:
    one Report per (kind, organ, period), its files replaced."""
    from . import aggregates
    from .hot import hot_topics
    from .views import payload

    if kind not in ReportKind.values:
        raise ReportError(_("未知的报告类型。"))
    aggregates.refresh()
    viewer = OrganViewer(organ)
    data = payload(viewer, organ, start, end)
    length = (end - start).days + 1
    prev = payload(viewer, organ, start - dt.timedelta(days=length), start - dt.timedelta(days=1))["metrics"]["received"]["numerator"]
    who = organ.name if organ else _("全部机关")
    title = f"{who}{period_label(kind, start, end)}{ReportKind(kind).label}"
    topics = hot_topics(viewer, organ=organ, days=min(length, 90), limit=5, today=end) if kind != ReportKind.ANNUAL else []
    from .metrics import day_bounds

    lo, hi = day_bounds(start, end)
    alerts = list(Alert.objects.filter(created_at__gte=lo, created_at__lt=hi)
                  .filter(cases__in=Case.objects.filter(pk__in=data_case_ids(viewer, organ, start, end))).distinct()[:20])
    art41 = art41_statistics(viewer, organ, start, end) if kind in (ReportKind.ANNUAL, ReportKind.QUARTERLY) else None
    docx_bytes = _docx(title, data, kind=kind, art41=art41, topics=topics, alerts=alerts, previous=prev)
    xlsx_bytes = _xlsx(title, data, art41)
    with transaction.atomic():
        report, _created = Report.objects.select_for_update().get_or_create(
            kind=kind, organ=organ, period_start=start, period_end=end, defaults={"title": title, "created_by": user})
        for f in (report.docx, report.xlsx):
            if f:
                f.delete(save=False)
        stem = f"{kind}-{organ.code if organ else 'all'}-{start.isoformat()}"
        report.title, report.created_at = title, timezone.now()
        if user is not None and getattr(user, "pk", None):
            report.created_by = user
        report.docx.save(f"{stem}.docx", ContentFile(docx_bytes), save=False)
        report.xlsx.save(f"{stem}.xlsx", ContentFile(xlsx_bytes), save=False)
        report.save()
    return report


def data_case_ids(viewer, organ, start, end):
    from .metrics import population

    return population(viewer, organ=organ, start=start, end=end).values("pk")


def scheduled_organs() -> list[Organ | None]:
    """Who gets scheduled reports: everything (organ None) and every organ with oversight staff."""
    from xinfang.orgs.models import User

    ids = set()
    for organ_id, roles in User.objects.filter(organ__isnull=False, is_active=True).values_list("organ_id", "roles"):
        if set(roles or []) & {Role.ANALYST, Role.LEADER, Role.SUPERVISOR}:
            ids.add(organ_id)
    return [None] + list(Organ.objects.filter(pk__in=ids).order_by("pk"))


def run_scheduled(kind: str, today: dt.date | None = None) -> int:
    """Generate the last complete period's report of `kind` for every scheduled organ."""
    start, end = previous_period(kind, today or timezone.localdate())
    n = 0
    for organ in scheduled_organs():
        generate_report(kind, organ=organ, start=start, end=end)
        n += 1
    return n
