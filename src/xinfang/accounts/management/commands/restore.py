"""`xinfang restore FILE [--force]`: restore an archive made by `xinfang backup` into an empty
database (or, with --force, replace everything), then verify the audit chain."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xinfang.accounts.backup import BackupError, restore, table_counts
from xinfang.audit.log import verify


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database (--force: replace a non-empty one)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--force", action="store_true", help="replace the data of a database already in use")

    def handle(self, *args, file, force, **options):
        try:
            manifest = restore(file, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        counts = table_counts()
        short = {label: (n, counts.get(label)) for label, n in manifest["counts"].items() if counts.get(label, 0) < n}
        if short:
            raise CommandError(_("恢复后行数少于备份:%(tables)s") % {"tables": short})
        checked, bad, reason = verify()
        if reason:
            raise CommandError(_("恢复完成,但审计链校验失败:%(reason)s") % {"reason": reason})
        rows = sum(manifest["counts"].values())
        self.stdout.write(_("恢复完成:%(rows)d 行,%(files)d 个附件文件;审计链完整(%(n)d 条)。") % {
            "rows": rows, "files": len(manifest["media"]), "n": checked})
