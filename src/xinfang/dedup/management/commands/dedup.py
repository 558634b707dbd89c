"""xinfang dedup reindex: build the duplicate-detection index for cases that lack it (or all)."""
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from xinfang.cases.models import Case
from xinfang.dedup import index
from xinfang.dedup.models import Band, PersonKey, Signature


class Command(BaseCommand):
    help = "Duplicate detection: `reindex` indexes (and screens) every case missing from the index; --all rebuilds it."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["reindex"])
        parser.add_argument("--all", action="store_true", help="drop the index and rebuild it for every case")
        parser.add_argument("--no-screen", action="store_true", help="index only; do not look for new duplicate links")
        parser.add_argument("--batch", type=int, default=1000, help="cases per batch (memory stays bounded by it)")

    def handle(self, *args, action, all, no_screen, batch, **options):
        if batch < 1 or batch > 5000:
            raise CommandError("--batch must be between 1 and 5000")
        if all:
            with transaction.atomic(), connection.cursor() as cur:
                for model in (Band, PersonKey, Signature):
                    cur.execute(f"DELETE FROM {model._meta.db_table}")
            self.stdout.write(_("已清空判重索引,开始重建。"))
        dropped = index.purge_orphans()
        # Oldest first, so each case is screened against the cases received before it.
        missing = Case.objects.filter(dedup_signature__isnull=True).order_by("received_at", "pk")
        total = missing.count()
        done = links = 0
        start = time.monotonic()
        last = None
        while True:
            # Keyset pages (received_at, pk): memory stays bounded by --batch at any size.
            page = missing
            if last is not None:
                page = page.filter(Q(received_at__gt=last[0]) | Q(received_at=last[0], pk__gt=last[1]))
            rows = list(page.values_list("pk", "received_at")[:batch])
            if not rows:
                break
            last = rows[-1][1], rows[-1][0]
            links += index.index_cases([pk for pk, _ in rows], screen=not no_screen)
            done += len(rows)
            rate = done / max(time.monotonic() - start, 1e-6)
            self.stdout.write("\r  " + _("%(done)s/%(total)s 件  %(rate)s 件/秒  新增关联 %(links)s") % {
                "done": f"{done:,}", "total": f"{total:,}", "rate": f"{rate:,.0f}", "links": f"{links:,}"}, ending="")
            self.stdout.flush()
        if total:
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(_("判重索引完成:新索引 %(done)s 件,新增重复关联 %(links)s 条,清理失效索引行 %(dropped)s 条。") % {
            "done": f"{done:,}", "links": f"{links:,}", "dropped": f"{sum(dropped):,}"}))
