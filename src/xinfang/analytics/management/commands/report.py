"""xinfang report weekly|monthly|quarterly|annual [--organ CODE] [--period 2026-05] FILE

Generates a periodic report (stored, like the scheduled ones) and writes it to FILE: .docx or
.xlsx by the file's extension (both are stored either way)."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from xinfang.orgs.models import Organ


class Command(BaseCommand):
    help = "Generate a periodic report (周报/月研判/季通报/年度报告) as DOCX or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["weekly", "monthly", "quarterly", "annual"])
        parser.add_argument("file", help="output file, .docx or .xlsx")
        parser.add_argument("--organ", help="organ code (its whole subtree); default: all organs")
        parser.add_argument("--period", default="", help="2026-05-25 (its week), 2026-05, 2026-Q2, 2026; default: the last complete one")

    def handle(self, *args, kind, file, organ, period, **options):
        from xinfang.analytics.reports import ReportError, generate_report, parse_period

        out = Path(file)
        if out.suffix.lower() not in (".docx", ".xlsx"):
            raise CommandError("FILE must end in .docx or .xlsx")
        org = None
        if organ:
            org = Organ.objects.filter(code__iexact=organ).first()
            if org is None:
                raise CommandError(f"no organ with code {organ}")
        try:
            start, end = parse_period(kind, period)
        except ReportError as exc:
            raise CommandError(str(exc)) from None
        report = generate_report(kind, organ=org, start=start, end=end)
        source = report.docx if out.suffix.lower() == ".docx" else report.xlsx
        with source.open("rb") as f:
            out.write_bytes(f.read())
        self.stdout.write(f"{report.title}: {out} ({start} – {end})")
