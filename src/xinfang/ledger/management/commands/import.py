"""`xinfang import FILE`: import a ledger (台账) from CSV or XLSX (docs/ledger.md)."""
from __future__ import annotations

import csv
import os
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from xinfang.ledger.importer import ErrorSink, Progress, run_import
from xinfang.ledger.models import ImportJob
from xinfang.ledger.views import error_rows
from xinfang.orgs.models import Organ, User


class FileSink(ErrorSink):
    """Dry run: error lines go straight to the report file (or are only counted)."""

    def __init__(self, path: str | None):
        super().__init__(None)
        self.fh = open(path, "w", encoding="utf-8-sig", newline="") if path else None
        self.writer = csv.writer(self.fh) if self.fh else None
        if self.writer:
            self.writer.writerow(["行号", "列", "原因"])

    def flush(self) -> None:
        if self.writer:
            self.writer.writerows(self.pending)
        self.pending = []

    def close(self) -> None:
        if self.fh:
            self.fh.close()


class Bar:
    """A progress bar on stderr: percentage, rows, rows/s and time left."""

    def __init__(self, stream):
        self.stream, self.last = stream, 0.0

    def checking(self, rows: int) -> None:
        self.stream.write(f"\r检查文件… 已读 {rows:,} 行")
        self.stream.flush()

    def __call__(self, p: Progress, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < 0.2:
            return
        self.last = now
        if p.screening:
            self.stream.write(f"\r判重收尾中:全部 {p.total:,} 行已写入,正在完成最后几批的重复信访筛查…  ")
            self.stream.flush()
            return
        elapsed = max(now - p.started, 1e-6)
        rate = p.done / elapsed if p.done else 0.0
        share = p.done / p.total if p.total else 1.0
        left = (p.total - p.done) / rate if rate else 0
        filled = int(share * 30)
        self.stream.write(f"\r导入 [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {p.done:,}/{p.total:,} 行 "
                          f"{rate:,.0f} 行/秒 剩余 {int(left) // 60:02d}:{int(left) % 60:02d} "
                          f"新建 {p.created:,} 跳过 {p.skipped:,} 错误 {p.errors:,}  ")
        if final:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "导入信访台账(CSV 或 XLSX):每行登记为一件信访事项,或写入错误报告。重复运行不会重复导入。"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="台账文件(.csv 或 .xlsx)")
        parser.add_argument("--bureau", help="登记机关的机构代码(默认:--user 所在机关)")
        parser.add_argument("--user", help="以该用户名义导入(登记人)")
        parser.add_argument("--errors", help="错误报告写入该 CSV 文件")
        parser.add_argument("--dry-run", action="store_true", help="只检查,不写入")
        parser.add_argument("--resume", type=int, metavar="JOB", help="继续一个中断的导入任务(任务编号)")
        parser.add_argument("--batch", type=int, default=1000, help="每批提交的行数(默认1000)")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条")

    def handle(self, *args, **o):
        if o["resume"]:
            try:
                job = ImportJob.objects.select_related("bureau", "user").get(pk=o["resume"])
            except ImportJob.DoesNotExist:
                raise CommandError(f"导入任务 {o['resume']} 不存在。") from None
        else:
            if not o["file"]:
                raise CommandError("请指定台账文件。")
            path = os.path.abspath(o["file"])
            if not os.path.isfile(path):
                raise CommandError(f"文件不存在:{o['file']}")
            user = None
            if o["user"]:
                try:
                    user = User.objects.select_related("organ").get(username=o["user"])
                except User.DoesNotExist:
                    raise CommandError(f"用户 {o['user']} 不存在。") from None
            if o["bureau"]:
                try:
                    bureau = Organ.objects.get(code__iexact=o["bureau"])
                except Organ.DoesNotExist:
                    raise CommandError(f"机构代码 {o['bureau']} 不存在。") from None
            elif user is not None and user.organ_id:
                bureau = user.organ
            else:
                raise CommandError("请用 --bureau 指定登记机关,或用 --user 指定登记人。")
            if not bureau.is_bureau:
                raise CommandError(f"{bureau.name}不是信访部门:台账导入到信访部门登记(--bureau 信访部门的机构代码)。")
            if user is not None and user.organ_id != bureau.pk:
                raise CommandError(f"用户 {user.username} 不属于 {bureau.name},不能作为其登记人。")
            job = ImportJob(bureau=bureau, user=user, source_path=path, name=os.path.basename(path)[:200])
            if not o["dry_run"]:
                job.save()
        bar = None if o["no_progress"] else Bar(sys.stderr)
        sink = FileSink(o["errors"]) if o["dry_run"] else None
        try:
            result = run_import(job, batch_size=o["batch"], dry_run=o["dry_run"], progress=bar,
                                checking=bar.checking if bar else None, error_sink=sink)
        finally:
            if sink:
                sink.close()
        if bar and result.total:
            bar(result, final=True)
        elif bar:
            sys.stderr.write("\n")
        if job.status == ImportJob.Status.FAILED:
            if o["errors"] and job.pk:
                self._write_errors(job, o["errors"])
            raise CommandError(job.message)
        if o["errors"] and job.pk:
            self._write_errors(job, o["errors"])
        verb = "检查" if o["dry_run"] else "导入"
        self.stdout.write(f"{verb}完成:共 {result.total} 行,{'可新建' if o['dry_run'] else '新建'} {result.created} 件,"
                          f"已导入过 {result.skipped} 行,错误 {result.errors} 行。" + (f"(任务 {job.pk})" if job.pk else ""))
        if result.errors and not o["errors"] and job.pk:
            self.stdout.write(f"错误报告:xinfang import --resume {job.pk} 之外,可在导入页面下载,或加 --errors 文件名。")

    def _write_errors(self, job, path):
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerows(error_rows(job))
