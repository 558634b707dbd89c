"""`xinfang audit verify`: prove the audit chain intact or name the first broken entry."""
from django.core.management.base import BaseCommand, CommandError

from xinfang.audit.log import verify


class Command(BaseCommand):
    help = "Verify the hash-chained audit log."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        count, bad, reason = verify()
        if reason:
            where = f" at #{bad.seq}" if bad is not None else ""
            raise CommandError(f"audit chain broken{where}: {reason} ({count} entries verified before it)")
        self.stdout.write(f"audit chain intact: {count} entries")
