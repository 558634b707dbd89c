"""XLSX of the dashboard's figures: the same `views.payload` the page and the JSON show."""
from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font


def _sheet_rows(ws, header, rows) -> None:
    ws.append([str(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    for col in ws.columns:
        ws.column_dimensions[col[0].column_letter].width = max(10, min(40, max(len(str(c.value or "")) for c in col) * 2))


def fill_workbook(wb: Workbook, data: dict, *, title: str = "") -> None:
    """Sheets 指标 (every metric with numerator, denominator, rate and buckets), 趋势 and one per
    breakdown, from a `views.payload` dict."""
    from .metrics import DEFINITION_BY_CODE

    ws = wb.active
    ws.title = _("指标")
    if title:
        ws.append([title])
        ws.append([_("统计期间"), f"{data['start']} — {data['end']}"])
        ws.append([])
    header = [_("指标"), _("分子"), _("分母"), _("比率"), _("分项")]
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for code, m in data["metrics"].items():
        d = DEFINITION_BY_CODE[code]
        bucket_labels = {b: str(label) for b, label, _c in d.buckets}
        buckets = "、".join(f"{bucket_labels[b]} {n}" for b, n in m["buckets"].items())
        rate = m["rate"]
        ws.append([m["label"], m["numerator"], m["denominator"], None if rate is None else round(rate, 6), buckets])
        if rate is not None:
            ws.cell(ws.max_row, 4).number_format = "0.00%"
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["E"].width = 40
    labels = data["labels"]
    tr = wb.create_sheet(_("趋势"))
    _sheet_rows(tr, [_("期间"), labels["received"], labels["timely_acceptance"], labels["on_time_completion"],
                     labels["satisfaction_organ"]],
                [[p["period"], p["received"], p["timely_acceptance"], p["on_time_completion"], p["satisfaction_organ"]]
                 for p in data["trend"]["points"]])
    for dim, rows in data["breakdowns"].items():
        sh = wb.create_sheet(str(labels.get(dim, dim))[:28])
        _sheet_rows(sh, [labels.get(dim, dim), labels["received"], labels["timely_acceptance"],
                         labels["on_time_completion"], labels["satisfaction_organ"]],
                    [[r["label"], r["received"], r["timely_acceptance"], r["on_time_completion"], r["satisfaction_organ"]]
                     for r in rows])


def metrics_workbook(user, organ, start: dt.date, end: dt.date, *, title: str = "") -> bytes:
    from .views import payload

    wb = Workbook()
    fill_workbook(wb, payload(user, organ, start, end), title=title)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
