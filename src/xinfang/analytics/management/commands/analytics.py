"""xinfang analytics refresh [--full] | alerts | reminders — run the analysis jobs by hand."""
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Analysis jobs: rebuild dashboard aggregates, detect early-warning alerts, send deadline reminders."

    def add_arguments(self, parser):
        parser.add_argument("job", choices=["refresh", "alerts", "reminders"])
        parser.add_argument("--full", action="store_true", help="refresh: rebuild every day, not only the stale ones")

    def handle(self, *args, job, full, **options):
        if job == "refresh":
            from xinfang.analytics.aggregates import refresh

            n = refresh(full=full)
            self.stdout.write(f"aggregate rows written: {n}")
        elif job == "alerts":
            from xinfang.analytics.hot import detect_alerts

            self.stdout.write(f"alerts created: {detect_alerts()}")
        else:
            from xinfang.analytics.jobs import send_deadline_reminders

            self.stdout.write(f"notices sent: {send_deadline_reminders()}")
