"""Bad ledgers: clear Chinese errors, per row where the row is at fault, for the whole file where
the file is; nothing half-imported."""
from __future__ import annotations

import pytest

from xinfang.cases.models import Case, Event, Petitioner
from xinfang.ledger.models import LedgerRow
from tests.ledger.conftest import HEADER, errors_of, row

pytestmark = pytest.mark.django_db


def nothing_written():
    return not (Case.objects.exists() or LedgerRow.objects.exists() or Event.objects.exists()
                or Petitioner.objects.exists())


def test_empty_file(cast, tmp_path, run):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    job, _ = run(path)
    assert job.status == "failed" and "文件为空" in job.message
    assert errors_of(job) == [(1, "", job.message)] and nothing_written()


def test_header_only_is_a_done_job_with_nothing(cast, write_csv, run):
    job, _ = run(write_csv([]))
    assert (job.status, job.total, job.created) == ("done", 0, 0)


def test_blank_file_with_only_newlines(cast, tmp_path, run):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n\n")
    job, _ = run(path)
    assert job.status == "failed" and "文件为空" in job.message


def test_duplicate_headers(cast, write_csv, run):
    job, _ = run(write_csv([["1", "2026-01-05", "来信", "x", "y", "建议", "z"]],
                           header=["编号", "登记日期", "信访形式", "内容", "content", "信访类别", "备注"]))
    assert job.status == "failed" and "表头重复" in job.message and "content" in job.message
    assert nothing_written()


def test_missing_required_column(cast, write_csv, run):
    job, _ = run(write_csv([["1", "来信"]], header=["编号", "信访形式"]))
    assert job.status == "failed" and "缺少必需的列" in job.message and "登记日期" in job.message


def test_unclosed_quote_refuses_the_whole_file(cast, tmp_path, run):
    path = tmp_path / "broken.csv"
    good = ",".join(row("B-1")[h] for h in HEADER)
    path.write_text(",".join(HEADER) + "\n" + good + "\n" + 'B-2,2026-01-05,来信,"unclosed\n', encoding="utf-8")
    job, _ = run(path)
    assert job.status == "failed" and "CSV格式错误" in job.message
    assert nothing_written()  # the good row before it is not imported either


def test_nul_byte(cast, tmp_path, run):
    path = tmp_path / "nul.csv"
    cells = [row("B-1")[h] for h in HEADER]
    cells[9] = "内容\x00损坏"
    path.write_bytes((",".join(HEADER) + "\n" + ",".join(cells) + "\n").encode())
    job, _ = run(path)
    assert job.errors == 1 and errors_of(job)[0][1:] == ("内容", "含有空字符(NUL),文件可能已损坏。")
    assert nothing_written()


def test_not_an_xlsx(cast, tmp_path, run):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04garbage that is not a zip archive")
    job, _ = run(path)
    assert job.status == "failed" and "XLSX" in job.message and nothing_written()


def test_old_xls_is_refused_with_advice(cast, tmp_path, run):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    job, _ = run(path)
    assert job.status == "failed" and ".xlsx" in job.message


def test_undecodable_bytes(cast, tmp_path, run):
    path = tmp_path / "bin.csv"
    path.write_bytes((",".join(HEADER) + "\n").encode() + b"\x81\x30\xff\xff\xfe\n")
    job, _ = run(path)
    assert job.status == "failed" and "编码" in job.message


def test_giant_cell_is_a_row_error(cast, write_csv, run):
    job, _ = run(write_csv([row("G-1", 内容="长" * 120_000), row("G-2")]))
    assert (job.created, job.errors) == (1, 1)
    [(number, column, reason)] = errors_of(job)
    assert (number, column) == (2, "内容") and "单元格过长" in reason


def test_content_over_the_limit(cast, write_csv, run):
    job, _ = run(write_csv([row("G-1", 内容="长" * 20_001)]))
    assert job.errors == 1 and "不能超过20000字" in errors_of(job)[0][2]


def test_row_errors_are_per_row_and_per_column(cast, write_csv, run):
    path = write_csv([
        row("E-1", 证件号码="110101199003074478"),  # bad check digit
        row("E-2", 信访形式="飞鸽传书"),
        row("E-3", 信访类别="投诉类"),
        row("E-4", 登记日期="去年春天"),
        row("E-5", 登记日期="2027-01-01"),
        row("E-6", 联系电话="12345"),
        row("E-7", 所属地区="火星"),
        row("E-8", 办理状态="办理中"),  # no 责任单位
        row("E-9", 办理状态="已办结", 责任单位="江州市住房和城乡建设局"),  # no 答复日期
        row("E-10", 人数="三人"),
        row("E-11", 内容=""),
        row("", 证件号码=""),
        row("OK-1", 证件号码=""),
        row("OK-1", 证件号码=""),  # duplicate 编号 in the file
        row("E-12", 办理状态="挂起"),
        row("E-13", 满意度="很好", 办理状态="已答复", 责任单位="江住建", 答复日期="2026-02-01"),
        row("E-14", 答复日期="2025-12-01", 办理状态="已答复", 责任单位="江住建"),
    ])
    job, _ = run(path)
    assert job.created == 1 and job.errors == 16
    by_row = {}
    for number, column, reason in errors_of(job):
        by_row.setdefault(number, []).append((column, reason))
    assert by_row[2] == [("证件号码", "身份证号码校验位不正确,请核对。")]
    assert by_row[3][0][0] == "信访形式" and "飞鸽传书" in by_row[3][0][1] and "走访" in by_row[3][0][1]
    assert by_row[4][0][0] == "信访类别"
    assert by_row[5][0][0] == "登记日期" and "不是可识别的日期" in by_row[5][0][1]
    assert by_row[6] == [("登记日期", "登记日期不能晚于当前时间。")]
    assert by_row[7][0][0] == "联系电话"
    assert by_row[8][0][0] == "所属地区" and "火星" in by_row[8][0][1]
    assert by_row[9][0][0] == "责任单位"
    assert by_row[10][0][0] == "答复日期"
    assert by_row[11][0][0] == "人数"
    assert by_row[12] == [("内容", "必填,不能为空。")]
    assert by_row[13] == [("编号", "必填,不能为空。")]
    assert by_row[15][0][0] == "编号" and "第14行" in by_row[15][0][1]
    assert by_row[16][0][0] == "办理状态"
    assert by_row[17][0][0] == "满意度"
    assert by_row[18] == [("答复日期", "答复日期早于登记日期。")]
    assert Case.objects.count() == 1 and Petitioner.objects.count() == 1


def test_extra_cells_beyond_the_header(cast, write_csv, run):
    cells = [row("X-1")[h] for h in HEADER] + ["多出来的"]
    job, _ = run(write_csv([cells]))
    assert job.errors == 1 and "比表头多" in errors_of(job)[0][2]


def test_numeric_id_from_excel_loses_digits_and_is_refused(cast, write_xlsx, run):
    job, _ = run(write_xlsx([row("N-1", 证件号码=110101199003074477.0)]))
    assert job.errors == 1 and errors_of(job)[0][1] == "证件号码"


def test_excel_serial_number_in_xlsx(cast, write_xlsx, run):
    job, _ = run(write_xlsx([row("S-1", 登记日期=46027)]))
    assert job.created == 1, errors_of(job)
    assert Case.objects.get().received_on.isoformat() == "2026-01-05"
