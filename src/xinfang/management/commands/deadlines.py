"""`xinfang deadlines sweep`: file the cases whose 复查/复核 request windows have passed."""
from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from xinfang.cases.workflow import sweep_closable


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, and the language is chosen at run time
        return _("期限任务:sweep 将复查/复核申请期限已过的已答复、已复查事项办结归档(可重复执行)。")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{sweep}")
        sub.add_parser("sweep", help=_("办结归档申请期限已过的已答复、已复查事项(条例第35、36条)"))

    def handle(self, *args, action, **options):
        # One action today; the sub-command leaves room for the others a scheduler will run.
        closed = sweep_closable()
        self.stdout.write(_("已办结归档%(n)s件(复查、复核申请期限已过,或无需复查的已答复事项)。") % {"n": closed})
