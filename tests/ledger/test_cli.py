"""`xinfang import` and `xinfang export`."""
from __future__ import annotations

import csv

import pytest
from django.core.management import CommandError, call_command

from xinfang.cases.models import Case
from xinfang.ledger.models import ImportJob
from tests.ledger.conftest import row

pytestmark = pytest.mark.django_db


def test_import_cli_with_error_report_and_progress(cast, write_csv, tmp_path, capsys):
    path = write_csv([row("C-1"), row("C-2", 证件号码="123")])
    report = tmp_path / "errors.csv"
    call_command("import", str(path), "--user", "registrar", "--errors", str(report))
    out, err = capsys.readouterr()
    assert "新建 1 件" in out and "错误 1 行" in out
    assert "导入 [" in err and "行/秒" in err  # the progress bar on stderr
    lines = list(csv.reader(open(report, encoding="utf-8-sig")))
    assert lines[0] == ["行号", "列", "原因"] and lines[1][:2] == ["3", "证件号码"]
    case = Case.objects.get()
    assert case.bureau == cast.bureau and case.registered_by == cast.registrar
    # Again: nothing new.
    call_command("import", str(path), "--bureau", "jzxf", "--no-progress")
    assert "已导入过 1 行" in capsys.readouterr().out and Case.objects.count() == 1


def test_import_cli_dry_run(cast, write_csv, tmp_path, capsys):
    path = write_csv([row("C-1"), row("C-2", 信访形式="飞鸽")])
    report = tmp_path / "errors.csv"
    call_command("import", str(path), "--bureau", "JZXF", "--dry-run", "--errors", str(report), "--no-progress")
    assert "可新建 1 件" in capsys.readouterr().out
    assert not Case.objects.exists() and not ImportJob.objects.exists()
    assert "飞鸽" in report.read_text(encoding="utf-8-sig")


def test_import_cli_refusals(cast, write_csv, tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("import", str(tmp_path / "nope.csv"), "--bureau", "JZXF")
    path = write_csv([row("C-1")])
    with pytest.raises(CommandError, match="--bureau"):
        call_command("import", str(path))
    with pytest.raises(CommandError, match="不存在"):
        call_command("import", str(path), "--bureau", "NOPE")
    with pytest.raises(CommandError, match="不是信访部门"):
        call_command("import", str(path), "--bureau", "JZZJ")
    with pytest.raises(CommandError, match="不属于"):
        call_command("import", str(path), "--bureau", "JZXF", "--user", "handler")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="文件为空"):
        call_command("import", str(empty), "--bureau", "JZXF", "--no-progress")


def test_import_cli_resume(cast, write_csv, capsys):
    path = write_csv([row("C-1"), row("C-2", 证件号码="")])
    job = ImportJob.objects.create(bureau=cast.bureau, user=cast.registrar, source_path=str(path), name="x",
                                   status="failed", total=2)
    call_command("import", "--resume", str(job.pk), "--no-progress")
    job.refresh_from_db()
    assert (job.status, job.created) == ("done", 2)


def test_export_cli_filters_visibility_and_formats(cast, make_case, tmp_path, capsys):
    make_case("registered", title="甲")
    make_case("handling", title="乙")
    out = tmp_path / "all.csv"
    call_command("export", str(out))
    assert "已导出 2 件" in capsys.readouterr().out
    call_command("export", str(out), "--state", "handling")
    rows = list(csv.reader(open(out, encoding="utf-8-sig")))
    assert len(rows) == 2 and "乙" in rows[1]
    call_command("export", str(out), "--user", "other")
    assert "已导出 0 件" in capsys.readouterr().out.splitlines()[-1]
    xlsx = tmp_path / "all.xlsx"
    call_command("export", str(xlsx), "--user", "handler")
    from openpyxl import load_workbook

    assert len(list(load_workbook(xlsx, read_only=True).worksheets[0].iter_rows())) == 2
    with pytest.raises(CommandError):
        call_command("export", str(out), "--received-from" if False else "--from", "notadate")


def test_progress_bar_says_when_only_the_duplicate_screening_is_left():
    import io

    from importlib import import_module

    from xinfang.ledger.importer import Progress

    Bar = import_module("xinfang.ledger.management.commands.import").Bar  # "import" is a keyword
    out = io.StringIO()
    bar = Bar(out)
    bar(Progress(total=5000, done=5000, created=5000), final=True)
    assert "100%" in out.getvalue() and "判重收尾中" not in out.getvalue()
    bar(Progress(total=5000, done=5000, created=5000, screening=True), final=True)
    assert "判重收尾中:全部 5,000 行已写入" in out.getvalue()
