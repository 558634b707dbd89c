"""xinfang bench: run the project's benchmarks against the configured database and print figures."""
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from xinfang.bench import MODULES, Report, load

NAMES = [m.split(".")[1] for m in MODULES]


class Command(BaseCommand):
    help = "Run the benchmarks (import, duplicates, classification, dashboards, pages, portal, API) and print the figures."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help=f"only these benchmarks ({', '.join(NAMES)})")
        parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
        parser.add_argument("--database-only", action="store_true",
                            help="only the benchmarks whose figures depend on the database engine")

    def handle(self, *args, names, quick, database_only, **options):
        modules = load(names or None)
        if names and len(modules) != len(set(names)):
            raise CommandError(f"unknown benchmark in {names}; known: {', '.join(NAMES)}")
        if database_only:
            modules = [(n, m) for n, m in modules if getattr(m, "USES_DATABASE", True)]
        call_command("migrate", verbosity=0)
        engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
        report = Report(engine=engine, out=self.stdout)
        for name, module in modules:
            report.section(module.TITLE)
            module.run(report, quick=quick)
        self.stdout.write(f"\n{len(report.figures)} figures on {engine}.")
