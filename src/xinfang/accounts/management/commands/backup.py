"""`xinfang backup FILE`: the whole database and the media files in one tar.gz (see
xinfang.accounts.backup for the format)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xinfang.accounts.backup import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent snapshot of the database and the media files to FILE (tar.gz)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="archive to write, e.g. xinfang-2026-06-01.tar.gz")

    def handle(self, *args, file, **options):
        try:
            manifest = backup(file)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(t["rows"] for t in manifest["tables"])
        self.stdout.write(_("备份完成:%(file)s(%(tables)d 张表,%(rows)d 行,%(files)d 个附件文件)") % {
            "file": file, "tables": len(manifest["tables"]), "rows": rows, "files": len(manifest["media"])})
