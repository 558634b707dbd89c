"""`xinfang export FILE`: export cases as a ledger (台账), CSV or XLSX (docs/ledger.md)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from xinfang.ledger import exporter
from xinfang.orgs.models import Organ, User


class Command(BaseCommand):
    help = "导出信访台账(CSV 或 XLSX),含系统编号与判重、分类建议;按 --user 的查看范围导出并遮蔽个人信息。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出文件(.csv 或 .xlsx)")
        parser.add_argument("--format", choices=["csv", "xlsx"], help="默认按文件扩展名")
        parser.add_argument("--user", help="按该用户可查看的范围导出,并遮蔽其无权查看的个人信息(不指定则导出全部)")
        parser.add_argument("--state", help="状态:open(未办结)或 registered/pending/handling/replied/closed …")
        parser.add_argument("--category", help="信访类别:suggestion/report/claim")
        parser.add_argument("--channel", help="信访形式:online/letter/call/fax/visit")
        parser.add_argument("--organ", help="当前机关的机构代码")
        parser.add_argument("--from", dest="received_from", help="收到日期自(YYYY-MM-DD)")
        parser.add_argument("--to", dest="received_to", help="收到日期至(YYYY-MM-DD)")
        parser.add_argument("--number", help="编号或开头部分")
        parser.add_argument("--q", help="标题或内容包含")

    def handle(self, *args, **o):
        from xinfang.intake.forms import CaseFilterForm

        user = None
        if o["user"]:
            try:
                user = User.objects.select_related("organ").get(username=o["user"])
            except User.DoesNotExist:
                raise CommandError(f"用户 {o['user']} 不存在。") from None
        data = {k: o[k] for k in ("state", "category", "channel", "received_from", "received_to", "number", "q") if o[k]}
        if o["organ"]:
            organ = Organ.objects.filter(code__iexact=o["organ"]).first()
            if organ is None:
                raise CommandError(f"机构代码 {o['organ']} 不存在。")
            data["organ"] = organ.pk
        form = CaseFilterForm(data)
        if not form.is_valid():
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        qs = form.filter(exporter.export_queryset(user))
        fmt = o["format"] or ("xlsx" if o["file"].lower().endswith(".xlsx") else "csv")
        n = exporter.write_xlsx(o["file"], user, qs) if fmt == "xlsx" else exporter.write_csv(o["file"], user, qs)
        from xinfang.audit.log import append as audit

        audit(user, "ledger.export", None, format=fmt, file=o["file"], cases=n, **{k: str(v) for k, v in data.items()})
        self.stdout.write(f"已导出 {n} 件信访事项到 {o['file']}。")
