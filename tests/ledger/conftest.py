"""Small ledgers for the ledger tests: write_csv / write_xlsx put rows into tmp_path."""
from __future__ import annotations

import csv

import pytest

from xinfang.cases.models import Topic

HEADER = ["编号", "登记日期", "信访形式", "信访人", "证件号码", "联系电话", "人数", "所属地区", "标题", "内容",
          "信访类别", "问题分类", "责任单位", "办理状态", "答复日期", "答复意见", "满意度"]
ID_A = "110101199003074477"
ID_B = "110101198505121232"


def row(no, **over):
    """One ledger row as a dict keyed by Chinese header; defaults make a valid 待转送 case."""
    base = {"编号": no, "登记日期": "2026-01-05", "信访形式": "来信", "信访人": "张三", "证件号码": ID_A,
            "联系电话": "13800138000", "人数": "1", "所属地区": "东湖区", "标题": "小区电梯故障",
            "内容": f"第{no}号:小区电梯长期故障无人维修,请求督促物业维修。", "信访类别": "申诉求决类",
            "问题分类": "", "责任单位": "", "办理状态": "待转送", "答复日期": "", "答复意见": "", "满意度": ""}
    base.update(over)
    return base


@pytest.fixture
def write_csv(tmp_path):
    def write(rows, *, header=None, name="ledger.csv", encoding="utf-8-sig"):
        header = header or HEADER
        path = tmp_path / name
        with open(path, "w", encoding=encoding, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow([r.get(h, "") for h in header] if isinstance(r, dict) else r)
        return path
    return write


@pytest.fixture
def write_xlsx(tmp_path):
    def write(rows, *, header=None, name="ledger.xlsx"):
        from openpyxl import Workbook

        header = header or HEADER
        wb = Workbook()
        ws = wb.active
        ws.append(header)
        for r in rows:
            ws.append([r.get(h) for h in header] if isinstance(r, dict) else r)
        path = tmp_path / name
        wb.save(path)
        return path
    return write


@pytest.fixture
def topic(db):
    parent = Topic.objects.create(name="城乡建设")
    return Topic.objects.create(name="物业管理", parent=parent)


@pytest.fixture
def run(cast):
    """run(path, user=registrar) → (job, progress): a synchronous import job."""
    from xinfang.ledger.importer import run_import
    from xinfang.ledger.models import ImportJob

    def go(path, user=None, *, batch_size=1000, **kw):
        user = user or cast.registrar
        job = ImportJob.objects.create(bureau=user.organ, user=user, source_path=str(path), name=path.name)
        progress = run_import(job, batch_size=batch_size, **kw)
        job.refresh_from_db()
        return job, progress
    return go


def errors_of(job) -> list[tuple[int, str, str]]:
    return list(job.row_errors.values_list("row", "column", "reason"))
