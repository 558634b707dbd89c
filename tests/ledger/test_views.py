"""Ledger pages: upload (registrars of a bureau only), the job page and its htmx progress, the
error report, resuming, and the export button of the case list and the inbox."""
from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.cases.models import Case
from xinfang.ledger.models import ImportJob
from tests.conftest import PASSWORD
from tests.ledger.conftest import HEADER, row

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def ledger_bytes(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r[h] for h in HEADER])
    return buf.getvalue().encode("gbk")


def test_anonymous_is_sent_to_login(client):
    for name in ("ledger:import", "ledger:export"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("who", ["handler", "supervisor", "citizen", "other"])
def test_other_roles_cannot_import(client, cast, who):
    # "other" is a registrar, but of a handling organ: ledgers are imported by petition bureaus.
    login(client, getattr(cast, who))
    assert client.get(reverse("ledger:import")).status_code == 404
    upload = SimpleUploadedFile("l.csv", ledger_bytes([row("V-1")]), content_type="text/csv")
    assert client.post(reverse("ledger:import"), {"file": upload}).status_code == 404
    assert not ImportJob.objects.exists()


def test_registrar_uploads_and_follows_the_job(client, cast):
    login(client, cast.registrar)
    page = client.get(reverse("ledger:import"))
    assert page.status_code == 200 and "导入台账" in page.content.decode()
    upload = SimpleUploadedFile("台账.csv", ledger_bytes([row("V-1"), row("V-2", 信访形式="飞鸽")]), content_type="text/csv")
    response = client.post(reverse("ledger:import"), {"file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("ledger:job", args=[job.pk])
    # Jobs run immediately in tests (HUEY.immediate).
    job.refresh_from_db()
    assert (job.status, job.created, job.errors, job.name) == ("done", 1, 1, "台账.csv")
    assert Case.objects.get().registered_by == cast.registrar
    page = client.get(reverse("ledger:job", args=[job.pk])).content.decode()
    assert "已完成" in page and "飞鸽" in page and reverse("ledger:job_errors", args=[job.pk]) in page
    partial = client.get(reverse("ledger:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="job-progress"' in partial and "<html" not in partial and "hx-trigger" not in partial  # done: no polling
    report = b"".join(client.get(reverse("ledger:job_errors", args=[job.pk])).streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0] == ["行号", "列", "原因"] and lines[1][:2] == ["3", "信访形式"]
    assert AuditEntry.objects.filter(action="ledger.import").exists()


def test_running_job_page_polls(client, cast):
    job = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, name="x.csv", status="running", total=10,
                                   rows_done=5)
    from django.utils import timezone

    ImportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now())
    login(client, cast.registrar)
    page = client.get(reverse("ledger:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and "50%" in page


def test_a_job_of_another_bureau_is_not_found(client, cast):
    job = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, name="x.csv")
    login(client, cast.district_registrar)
    assert client.get(reverse("ledger:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("ledger:job_errors", args=[job.pk])).status_code == 404


def test_a_stalled_job_is_resumed_from_its_page(client, cast, tmp_path, frozen_time):
    import datetime as dt

    from tests.ledger.conftest import HEADER as H

    path = tmp_path / "l.csv"
    path.write_bytes(ledger_bytes([row("W-1"), row("W-2")]))
    job = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, name="l.csv", source_path=str(path),
                                   status="running", total=2)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat=dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.timezone.utc))
    login(client, cast.registrar)
    page = client.get(reverse("ledger:job", args=[job.pk])).content.decode()
    assert "继续导入" in page and H
    client.post(reverse("ledger:job_resume", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created) == ("done", 2)


def test_non_ledger_upload_refused(client, cast):
    login(client, cast.registrar)
    upload = SimpleUploadedFile("x.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = client.post(reverse("ledger:import"), {"file": upload})
    assert response.status_code == 200 and "只能导入" in response.content.decode() and not ImportJob.objects.exists()


def _export(client, query) -> list[list[str]]:
    response = client.get(reverse("ledger:export") + query)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_case_list_export_follows_the_filters(client, cast, make_case):
    make_case("registered", title="电梯故障")
    make_case("handling", title="工资拖欠", category="claim")
    login(client, cast.registrar)
    page = client.get(reverse("case_list") + "?state=handling").content.decode()
    assert reverse("ledger:export") + "?list=cases&amp;state=handling" in page
    rows = _export(client, "?list=cases&state=handling")
    assert len(rows) == 2 and rows[1][HEADER.index("标题")] == "工资拖欠"
    assert len(_export(client, "?list=cases")) == 3
    assert AuditEntry.objects.filter(action="ledger.export").count() == 2


def test_inbox_export_is_the_tab(client, cast, make_case):
    make_case("pending")
    make_case("handling")
    login(client, cast.handler)
    page = client.get(reverse("inbox") + "?tab=handling").content.decode()
    assert "list=inbox&amp;tab=handling" in page
    rows = _export(client, "?list=inbox&tab=handling")
    assert len(rows) == 2 and rows[1][HEADER.index("办理状态")] == "办理中"
    login(client, cast.other)
    assert len(_export(client, "?list=inbox&tab=handling")) == 1  # another organ: header only


def test_xlsx_export(client, cast, make_case):
    from openpyxl import load_workbook

    make_case("registered", title="=cmd|' /C calc'!A0")
    login(client, cast.registrar)
    response = client.get(reverse("ledger:export") + "?list=cases&format=xlsx")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[1][HEADER.index("标题")] == "'=cmd|' /C calc'!A0"  # text, not a formula


def test_bad_filter_is_not_exported(client, cast):
    login(client, cast.registrar)
    assert client.get(reverse("ledger:export") + "?list=cases&received_from=notadate").status_code == 404
    assert PASSWORD


def test_a_restarted_consumer_resumes_stalled_jobs(cast, tmp_path):
    import datetime as dt

    from xinfang.ledger import tasks

    path = tmp_path / "l.csv"
    path.write_bytes(ledger_bytes([row("Z-1")]))
    stalled = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, name="l.csv", source_path=str(path),
                                       status="running", total=1)
    busy = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, name="l.csv", source_path=str(path),
                                    status="running", total=1)
    ImportJob.objects.filter(pk=stalled.pk).update(heartbeat=dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.timezone.utc))
    from django.utils import timezone

    ImportJob.objects.filter(pk=busy.pk).update(heartbeat=timezone.now())
    assert tasks.stalled_job_ids() == [stalled.pk]
    tasks.resume_stalled.call_local()
    stalled.refresh_from_db()
    busy.refresh_from_db()
    assert (stalled.status, stalled.created) == ("done", 1) and busy.status == "running"
    assert not tasks.claim(busy.pk)  # a live job is never taken by a second worker
