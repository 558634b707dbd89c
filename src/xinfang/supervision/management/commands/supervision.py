"""xinfang supervision letters [--overdue] [--organ CODE] | ranking USER FILE [--month 2026-05] | remind

`letters` lists the supervision letters that are still open (待答复 or 待审核), oldest answer date
first, with the overdue ones marked; `ranking` writes the monthly 红黑榜 that USER (a supervisor,
leader or analyst) sees, as .csv or .xlsx by the file's extension, and prints the organs left
unranked (样本不足 or 无数据) with their case counts; `remind` sends the 临期/超期 reminders of
letters not answered in time now (the hourly job's work; idempotent) and prints how many it sent."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "Supervision: list open supervision letters, export the monthly 红黑榜, or send letter reminders."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="job", required=True)
        letters = sub.add_parser("letters", help="open supervision letters")
        letters.add_argument("--overdue", action="store_true", help="only letters past their answer date")
        letters.add_argument("--organ", help="only letters addressed to the organ with this code")
        ranking = sub.add_parser("ranking", help="export the monthly 红黑榜")
        ranking.add_argument("user", help="username of the supervisor, leader or analyst whose view is exported")
        ranking.add_argument("file", help="output file, .csv or .xlsx")
        ranking.add_argument("--month", default="", help="YYYY-MM; default: last month")
        sub.add_parser("remind", help="send the 临期/超期 reminders of unanswered letters now (idempotent)")

    def handle(self, *args, job, **options):
        if job == "letters":
            self.letters(options["overdue"], options["organ"])
        elif job == "remind":
            from xinfang.supervision.reminders import send_letter_reminders

            self.stdout.write(f"letter reminders sent: {send_letter_reminders()}")
        else:
            self.ranking(options["user"], options["file"], options["month"])

    def letters(self, overdue: bool, organ: str | None):
        from xinfang.supervision.models import LetterStatus, SupervisionLetter

        today = timezone.localdate()
        qs = (SupervisionLetter.objects.exclude(status=LetterStatus.CLOSED)
              .select_related("document", "organ", "case").order_by("answer_due", "pk"))
        if overdue:
            qs = qs.filter(status=LetterStatus.OPEN, answer_due__lt=today)
        if organ:
            qs = qs.filter(organ__code__iexact=organ)
        n = 0
        for letter in qs.iterator(chunk_size=500):
            mark = "OVERDUE" if letter.is_overdue else letter.status
            self.stdout.write(f"{letter.document.number}\t{letter.get_kind_display()}\t{letter.organ.name}\t"
                              f"{letter.case.number}\t{letter.answer_due:%Y-%m-%d}\t{mark}")
            n += 1
        self.stderr.write(f"{n} letter(s)")

    def ranking(self, username: str, file: str, month: str):
        from xinfang.orgs.models import Role, User
        from xinfang.supervision import ranking as rk

        out = Path(file)
        if out.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError("FILE must end in .csv or .xlsx")
        user = User.objects.filter(username=username).select_related("organ").first()
        if user is None or not user.organ_id or not user.has_role(Role.SUPERVISOR, Role.LEADER, Role.ANALYST):
            raise CommandError(f"{username}: no supervisor, leader or analyst with an organ has this username")
        try:
            first = dt.datetime.strptime(month, "%Y-%m").date() if month else rk.previous_month(timezone.localdate())
        except ValueError:
            raise CommandError("--month must be YYYY-MM, e.g. 2026-05") from None
        board = rk.build_ranking(user, first)
        out.write_bytes(rk.to_csv(board) if out.suffix.lower() == ".csv" else rk.to_xlsx(board))
        self.stdout.write(f"{out}: {len(board.rows)} ranked, {len(board.too_few)} with too few cases "
                          f"(under {board.min_cases}), {len(board.no_data)} without data "
                          f"({first:%Y-%m}, red {len(board.red)}, black {len(board.black)})")
        # The organs left out, each with its case count and the reason, as the page shows them.
        for row in board.unranked:
            score = "" if row.score is None else row.score
            self.stdout.write(f"{row.organ.name}\t{row.cases}\t{score}\t{row.reason_label}")
