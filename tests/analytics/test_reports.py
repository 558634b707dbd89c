"""Periodic reports: every kind as DOCX and XLSX, on demand (page, CLI) and on schedule."""
import datetime as dt
import io
import zipfile

import pytest
from django.core.management import call_command
from docx import Document
from openpyxl import load_workbook

from xinfang.analytics.models import Report
from xinfang.analytics.reports import ReportError, generate_report, parse_period, previous_period, run_scheduled


def test_periods():
    today = dt.date(2026, 6, 1)  # a Monday
    assert previous_period("weekly", today) == (dt.date(2026, 5, 25), dt.date(2026, 5, 31))
    assert previous_period("monthly", today) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert previous_period("quarterly", today) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert previous_period("annual", today) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert parse_period("quarterly", "2026-q2") == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert parse_period("weekly", "2026-05-27") == (dt.date(2026, 5, 25), dt.date(2026, 5, 31))
    with pytest.raises(ReportError):
        parse_period("monthly", "May")


@pytest.mark.parametrize("kind", ["weekly", "monthly", "quarterly", "annual"])
def test_every_report_kind(cast, make_case, kind):
    make_case("replied")
    make_case("handling")
    start, end = parse_period(kind, {"weekly": "2026-06-01", "monthly": "2026-06", "quarterly": "2026-Q2",
                                     "annual": "2026"}[kind])
    report = generate_report(kind, organ=None, start=start, end=end)
    doc = Document(report.docx.open("rb"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "本期共收到信访事项2件" in text
    assert len(doc.inline_shapes) >= 1  # the trend chart
    if kind in ("annual", "quarterly"):
        assert "条例第41条" in text
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        assert "转送" in cells and "督办函" in cells
    wb = load_workbook(report.xlsx.open("rb"))
    first = {row[0]: row for row in wb.worksheets[0].iter_rows(values_only=True) if row and row[0]}
    assert first["信访总量"][1] == 2
    # Idempotent: the same period again replaces the files, no second report.
    generate_report(kind, organ=None, start=start, end=end)
    assert Report.objects.filter(kind=kind).count() == 1


def test_scheduled_reports_are_idempotent(cast, make_case):
    make_case("handling")
    assert run_scheduled("monthly", dt.date(2026, 7, 1)) == 3  # everything, the bureau (supervisor), city government (leader)
    run_scheduled("monthly", dt.date(2026, 7, 1))
    assert Report.objects.count() == 3


def test_cli(cast, make_case, tmp_path):
    make_case("handling")
    out = tmp_path / "m.docx"
    call_command("report", "monthly", str(out), "--organ", "JZZJ", "--period", "2026-06")
    assert zipfile.is_zipfile(out)
    report = Report.objects.get()
    assert report.organ == cast.housing and "江州市住房和城乡建设局2026年6月月研判" == report.title
    call_command("report", "annual", str(tmp_path / "a.xlsx"), "--period", "2026")
    assert load_workbook(tmp_path / "a.xlsx").sheetnames[-1] == "第41条统计"


def test_report_page_and_download_access(client, cast, make_case):
    make_case("handling")
    client.force_login(cast.supervisor)
    r = client.post("/analytics/reports/", {"kind": "monthly", "organ": cast.bureau.pk, "period": "2026-06"})
    assert r.status_code == 302
    report = Report.objects.get()
    assert client.get(f"/analytics/reports/{report.pk}/docx/").status_code == 200
    client.force_login(cast.handler)  # not an oversight role
    assert client.get("/analytics/reports/").status_code == 403
    assert client.get(f"/analytics/reports/{report.pk}/docx/").status_code == 404
    client.force_login(cast.leader)  # city government: the bureau is in its subtree
    assert client.get(f"/analytics/reports/{report.pk}/xlsx/").status_code == 200
    from xinfang.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="analytics.report_download").count() == 2
