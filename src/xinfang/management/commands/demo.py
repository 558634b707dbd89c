"""`xinfang demo [--cases N] [--seed S] [--reset]`: load the fictional city of 临江市 with N cases."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils.translation import gettext as _

from xinfang.cases.models import Case, State
from xinfang.demo import (
    DEFAULT_BATCH, DEFAULT_CASES, DEFAULT_SEED, DemoConflict, ResetRefused, format_logins, load_demo,
)


def positive(value: str) -> int:
    import argparse

    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("应为整数:%(value)s") % {"value": value}) from None
    if number < 0:
        raise argparse.ArgumentTypeError(_("不能为负数:%(value)s") % {"value": value})
    return number


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, and the language is chosen at run time
        return _("生成演示数据:虚构的临江市(行政区划、约30个机关、各角色用户、问题分类)和N件信访事项。")

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=positive, default=DEFAULT_CASES,
                            help=_("生成的信访事项件数(默认 %(default)s)"))
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                            help=_("随机种子,相同种子生成相同数据(默认 %(default)s)"))
        parser.add_argument("--reset", action="store_true", help=_("先删除已有的演示数据"))
        parser.add_argument("--batch-size", type=positive, default=DEFAULT_BATCH,
                            help=_("每批写入的件数(默认 %(default)s)"))
        parser.add_argument("--no-logins", action="store_true", help=_("结束时不打印演示账号"))

    def handle(self, *args, cases, seed, reset, batch_size, no_logins, verbosity, **options):
        if batch_size < 1:
            raise CommandError(_("--batch-size 至少为1。"))

        def progress(done, total):
            if verbosity >= 1 and total > batch_size:
                self.stdout.write(_("  已生成 %(done)s / %(total)s 件") % {"done": done, "total": total})

        try:
            report = load_demo(cases, seed=seed, reset=reset, batch_size=batch_size, progress=progress)
        except (DemoConflict, ResetRefused) as exc:
            raise CommandError(str(exc)) from None
        if report.reset is not None:
            self.stdout.write(_("已删除原有演示数据:%(cases)s件信访事项、%(organs)s个机关、%(users)s个账号。") % {
                "cases": report.reset.get("case", 0), "organs": report.reset.get("organ", 0), "users": report.reset.get("user", 0)})
        created = report.created
        if any(created.values()):
            self.stdout.write(_("已创建:%(regions)s个行政区划、%(organs)s个机关、%(users)s个账号、%(topics)s个问题分类。") % created)
        else:
            self.stdout.write(_("演示机关、账号和问题分类已存在,本次只添加信访事项。"))
        self.stdout.write(_("已生成%(n)s件信访事项,用时%(s).1f秒(每秒%(rate)d件)。") % {
            "n": report.written, "s": report.seconds, "rate": report.rate})
        if verbosity >= 1 and report.written:
            counts = dict(Case.objects.values_list("state").annotate(n=Count("pk")).order_by())
            parts = [f"{label} {counts.get(value, 0)}" for value, label in State.choices]
            self.stdout.write(_("当前各状态件数:") + ",".join(parts))
        if report.skipped_users:
            self.stdout.write(_("用户名 %(names)s 已被非演示账号使用,演示未创建同名账号。") % {
                "names": "、".join(report.skipped_users)})
        if not no_logins:
            self.stdout.write("")
            self.stdout.write(format_logins())
