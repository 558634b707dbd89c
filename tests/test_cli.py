"""The `xinfang` commands: calendar import/check/seed, deadlines sweep and serve.

Time is frozen at 2026-06-01 09:00 (conftest). The CSV files below are test input, not the
official arrangement of any year.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import Case, State
from xinfang.deadlines.models import CalendarDay, CalendarYear
from xinfang.orgs.models import Organ

from .conftest import TZ


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def csv_file(tmp_path: Path, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / "calendar.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), TZ)


# --------------------------------------------------------------------------- calendar import


def test_import_upserts_days_and_recomputes_open_deadlines(cast, make_case, tmp_path):
    """A 15-day acceptance limit (Art.23) started on 2026-06-01 ends on Tuesday 2026-06-16; once
    that day is entered as a holiday the open deadline moves to the next working day."""
    case = make_case("pending")
    assert case.deadlines.get(rule_id="accept").due_on == dt.date(2026, 6, 16)
    path = csv_file(tmp_path, "日期,类型,名称\n2026-06-16,休,临时调整\n2026/6/20,班,临时调整调休\n2026-06-21,holiday,\n")
    out, err = run("calendar", "import", path)
    assert "新增2" in out and "无变化1" in out and "1个到期日有变化" in out and err == ""
    assert CalendarDay.objects.get(date=dt.date(2026, 6, 16)).kind == "holiday"
    assert CalendarDay.objects.get(date=dt.date(2026, 6, 20)).kind == "workday"
    assert not CalendarDay.objects.filter(date=dt.date(2026, 6, 21)).exists()  # a Sunday rests anyway
    case.refresh_from_db()
    assert case.deadlines.get(rule_id="accept").due_on == dt.date(2026, 6, 17)
    assert case.due_on == dt.date(2026, 6, 17)
    # Importing the same file again changes nothing.
    out, _err = run("calendar", "import", path)
    assert "新增0,更新0,删除0,无变化3" in out


def test_import_reads_excel_gbk_and_replaces_a_mistaken_entry(db, tmp_path):
    CalendarDay.objects.create(date=dt.date(2026, 6, 13), kind="workday", name="误录")
    path = csv_file(tmp_path, "日期,类型,名称\n2026-06-13,休,\n2026-06-15,班,\n", encoding="gbk")
    out, _err = run("calendar", "import", path)
    assert "删除1" in out
    assert not CalendarDay.objects.filter(date=dt.date(2026, 6, 13)).exists()  # a Saturday is a rest day again


def test_bad_rows_are_all_named_and_nothing_is_written(db, tmp_path):
    before = (CalendarDay.objects.count(), list(CalendarYear.objects.values_list("year", "covered")))
    path = csv_file(tmp_path, "日期,类型,名称\n2027-13-01,休,元旦\nabc,班,\n2027-02-10,放,春节\n"
                              "2027-02-11,休,春节\n2027-02-11,休,春节\n2027-02-12,休," + "长" * 41 + "\n")
    with pytest.raises(CommandError, match="共6处错误,未写入任何数据") as refused:
        run("calendar", "import", path, "--complete", "2027", "--complete", "2028")
    messages = str(refused.value)
    for expected in ("--complete 2028:文件中没有2028年的日期", "第2行:日期“2027-13-01”不存在", "第3行:日期“abc”格式不正确", "第4行:类型“放”无效",
                     "第6行:日期2027-02-11与第5行重复", "第7行:名称不能超过40字"):
        assert expected in messages
    assert (CalendarDay.objects.count(), list(CalendarYear.objects.values_list("year", "covered"))) == before
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_file_without_the_header_or_at_all_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="表头缺少日期、类型列"):
        run("calendar", "import", csv_file(tmp_path, "date;type\n2027-01-01;休\n"))
    with pytest.raises(CommandError, match="找不到文件"):
        run("calendar", "import", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="没有2027年的日期"):
        run("calendar", "import", csv_file(tmp_path, "日期,类型,名称\n2026-06-16,休,x\n"), "--complete", "2027")
    assert not CalendarDay.objects.filter(date=dt.date(2026, 6, 16)).exists()


def test_complete_makes_a_pending_2027_deadline_computable(cast, make_case, travel, tmp_path):
    """Accepting a case on 2026-12-10 starts the 60-day limit of Art.34, which ends in 2027: pending
    until 2027 is entered and marked complete, then computed with its holidays and 调休 Saturday."""
    travel(at(dt.date(2026, 12, 1)))
    case = make_case("pending")
    travel(at(dt.date(2026, 12, 10)))
    case = workflow.accept_case(cast.handler, case, route="r6")
    handle = case.deadlines.get(rule_id="handle")
    assert (handle.due_on, handle.pending_year) == (None, 2027)
    path = csv_file(tmp_path, "日期,类型,名称\n2027-01-01,休,元旦\n2027-02-08,休,春节\n2027-02-09,休,春节\n"
                              "2027-02-10,休,春节\n2027-02-11,休,春节\n2027-02-12,休,春节\n2027-02-20,班,春节调休\n")
    run("calendar", "import", path)  # entered, but not yet marked complete: still pending
    handle.refresh_from_db()
    assert handle.due_on is None
    out, _err = run("calendar", "import", path, "--complete", "2027")
    assert "已标记完整录入:2027年" in out
    # 2026-12-10 + 60 days = 2027-02-08, inside the (test) Spring Festival holiday; the next working
    # days after it: Saturday 2027-02-13 and Sunday 02-14 rest, Monday 2027-02-15 works.
    handle.refresh_from_db()
    assert (handle.due_on, handle.pending_year) == (dt.date(2027, 2, 15), None)
    case.refresh_from_db()
    assert case.due_on == dt.date(2027, 2, 15) and case.due_pending_year is None


# --------------------------------------------------------------------------- calendar check and seed


def test_check_lists_covered_years_and_sees_nothing_ahead_in_june(db):
    out, _err = run("calendar", "check")
    assert "已完整录入的年份:2004–2026" in out
    assert "未来120天(至2026-09-29)的期限均可计算" in out
    assert "警告" not in out


def test_check_warns_before_the_year_runs_out_and_counts_the_cases_held_up(cast, make_case, travel, tmp_path):
    make_case("closed")  # finished in June: needs nothing
    travel(at(dt.date(2026, 11, 16)))
    make_case("pending")  # accepting it starts a 60-day limit: into 2027
    out, _err = run("calendar", "check")
    assert "警告:2027年的节假日安排尚未录入。距2027-01-01还有46天" in out
    assert "有1件的下一环节期限可能落入2027年(待受理1件)" in out
    accepted = make_case("pending")
    workflow.accept_case(cast.handler, accepted, route="r6")  # 60 days from 11-16: pending on 2027
    out, _err = run("calendar", "check")
    assert "已有1个进行中的期限待定,录入该年安排后自动计算" in out
    assert "xinfang calendar import 文件.csv --complete 2027" in out
    run("calendar", "import", csv_file(tmp_path, "日期,类型,名称\n2027-01-01,休,元旦\n"), "--complete", "2027")
    out, _err = run("calendar", "check")
    assert "2004–2027" in out and "警告" not in out


def test_seed_restores_missing_official_days_and_keeps_edits(db):
    CalendarDay.objects.filter(date=dt.date(2026, 10, 1)).delete()
    CalendarDay.objects.filter(date=dt.date(2026, 10, 2)).update(name="国庆节(本地名称)")
    out, _err = run("calendar", "seed")
    assert "补充1天" in out and "2004–2026" in out
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 1)).kind == "holiday"
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 2)).name == "国庆节(本地名称)"
    out, _err = run("calendar", "seed")
    assert "补充0天" in out


def test_calendar_needs_an_action(db):
    with pytest.raises(CommandError):
        call_command("calendar")


# --------------------------------------------------------------------------- deadlines sweep


def test_sweep_files_cases_once_their_review_window_is_over(cast, make_case, travel):
    """A replied case may be asked to 复查 within 30 days of delivery (Art.35): the sweep leaves it
    alone until then, files it the day after, and finds nothing more to do the second time."""
    case = make_case("replied")
    window = case.deadlines.get(rule_id="review_request").due_on
    out, _err = run("deadlines", "sweep")
    assert "已办结归档0件" in out
    travel(window)
    run("deadlines", "sweep")
    case.refresh_from_db()
    assert case.state == State.REPLIED
    travel(window + dt.timedelta(days=1))
    out, _err = run("deadlines", "sweep")
    assert "已办结归档1件" in out
    case.refresh_from_db()
    assert (case.state, case.closure) == (State.CLOSED, "replied")
    close = case.events.get(action="close")
    assert close.actor is None and close.organ is None
    out, _err = run("deadlines", "sweep")
    assert "已办结归档0件" in out
    assert case.events.filter(action="close").count() == 1


# --------------------------------------------------------------------------- serve


@pytest.fixture
def no_server(monkeypatch):
    """Run `serve` up to the point where gunicorn would take over, and record its settings."""
    from xinfang.management.commands import serve

    started = []
    monkeypatch.setattr(serve.XinfangServer, "run", lambda self: started.append(self))
    return started


def test_serve_migrates_loads_the_demo_once_and_starts_gunicorn(db, no_server):
    out, _err = run("serve", "--demo", "--demo-cases", "15", "--port", "8123", "--workers", "3")
    assert "数据库已迁移" in out and "正在加载演示数据" in out and "linjiang-demo-2026" in out
    assert "http://127.0.0.1:8123/" in out
    assert Organ.objects.exists() and Case.objects.count() == 15
    server = no_server[0]
    assert server.cfg.bind == ["127.0.0.1:8123"] and server.cfg.workers == 3
    from xinfang.wsgi import application

    assert server.load() is application
    # Organs exist now: the next start does not load the demo again but still prints the logins.
    out, _err = run("serve", "--demo", "--demo-cases", "15")
    assert "正在加载演示数据" not in out and "linjiang-demo-2026" in out
    assert Case.objects.count() == 15
    assert no_server[1].cfg.bind == ["127.0.0.1:8000"] and no_server[1].cfg.workers == 2


def test_serve_without_demo_loads_nothing(db, no_server):
    out, _err = run("serve", "--host", "::1", "--port", "8124")
    assert not Organ.objects.exists() and "演示账号" not in out
    assert no_server[0].cfg.bind == ["[::1]:8124"] and "XINFANG_ALLOWED_HOSTS" not in out


def test_serve_on_every_interface_reminds_of_allowed_hosts(db, no_server):
    out, _err = run("serve", "--host", "0.0.0.0")
    assert "XINFANG_ALLOWED_HOSTS" in out and no_server[0].cfg.bind == ["0.0.0.0:8000"]
    out, _err = run("serve", "--host", "10.1.2.3")
    assert "10.1.2.3 不在 XINFANG_ALLOWED_HOSTS 中" in out


@pytest.mark.parametrize("args", [("--port", "70000"), ("--port", "web"), ("--workers", "0")])
def test_serve_refuses_bad_options(db, no_server, args):
    with pytest.raises(CommandError):
        call_command("serve", *args)
    assert not no_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_really_serves(tmp_path):
    """The real thing, in a fresh data directory: migrate, demo, logins, gunicorn answering."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(XINFANG_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "xinfang", "serve", "--demo", "--demo-cases", "10",
                             "--port", str(port), "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        status = None
        for _i in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as response:
                    status = response.status
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/admin/css/base.css", timeout=5) as response:
            assert response.status == 200
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
    assert "演示账号(密码均为 linjiang-demo-2026)" in output and "ljxf_dj" in output, output
