"""`xinfang serve [--demo] [--host 127.0.0.1] [--port 8000] [--workers 2]`: migrate and serve.

Runs gunicorn in-process (its application class, not a subprocess) with xinfang.wsgi:application;
static files are served by whitenoise, so nothing else is needed in front for a single machine.
"""
from __future__ import annotations

import argparse
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.translation import gettext as _
from gunicorn.app.base import BaseApplication

from xinfang.demo import DEFAULT_CASES, demo_user_queryset, format_logins
from xinfang.orgs.models import Organ


class XinfangServer(BaseApplication):
    """gunicorn serving xinfang's WSGI application with the given settings (bind, workers …)."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from xinfang.wsgi import application

        return application

    def run(self):
        # Workers are forked from this process: they must not share its database connection.
        connections.close_all()
        super().run()


def port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(_("端口应为1至65535之间的整数:%(value)s") % {"value": value})
    return number


def at_least_one(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(_("应为正整数:%(value)s") % {"value": value})
    return number


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, and the language is chosen at run time
        return _("迁移数据库(可选加载演示数据)并用 gunicorn 提供服务。")

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help=_("数据库中还没有机关时,加载演示数据"))
        parser.add_argument("--demo-cases", type=at_least_one, default=DEFAULT_CASES,
                            help=_("演示数据的信访事项件数(默认 %(default)s)"))
        parser.add_argument("--host", default="127.0.0.1", help=_("监听地址(默认 %(default)s)"))
        parser.add_argument("--port", type=port, default=8000, help=_("端口(默认 %(default)s)"))
        parser.add_argument("--workers", type=at_least_one, default=2, help=_("工作进程数(默认 %(default)s)"))
        parser.add_argument("--timeout", type=at_least_one, default=60, help=_("请求超时秒数(默认 %(default)s)"))
        parser.add_argument("--no-worker", action="store_true",
                            help=_("不在本机启动后台任务进程(后台任务由其他机器上的 xinfang run_huey 处理)"))

    def handle(self, *args, demo, demo_cases, host, port, workers, timeout, no_worker, verbosity, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(_("数据库已迁移到最新结构。"))
        if demo and not Organ.objects.exists():
            self.stdout.write(_("数据库中还没有机关,正在加载演示数据……"))
            call_command("demo", cases=demo_cases, no_logins=True, verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
        if demo_user_queryset().exists():
            self.stdout.write("")
            self.stdout.write(format_logins())
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write("")
        self.stdout.write(_("正在启动:http://%(host)s:%(port)s/ (%(workers)s个工作进程,Ctrl+C 停止)") % {
            "host": shown if ":" not in shown else f"[{shown}]", "port": port, "workers": workers})
        if host in ("0.0.0.0", "::"):
            self.stdout.write(self.style.WARNING(_(
                "提示:从其他计算机访问时,请把本机的域名或IP地址写入 XINFANG_ALLOWED_HOSTS(当前:%(hosts)s)。") % {
                "hosts": ",".join(settings.ALLOWED_HOSTS)}))
        elif host not in ("127.0.0.1", "localhost", "::1") and host not in settings.ALLOWED_HOSTS:
            self.stdout.write(self.style.WARNING(_("提示:%(host)s 不在 XINFANG_ALLOWED_HOSTS 中,用该地址访问会被拒绝。") % {"host": host}))
        config = {"bind": [bind], "workers": workers, "timeout": timeout, "accesslog": "-", "errorlog": "-",
                  "proc_name": "xinfang",
                  # gunicorn's control socket defaults to one path per user account, so a second
                  # instance (another data dir, a test) would fight over it; xinfang does not use it.
                  "control_socket_disable": True}
        if _has_shm():
            config["worker_tmp_dir"] = "/dev/shm"  # heartbeat files off the disk (gunicorn's advice)
        server = XinfangServer(config)
        # The job consumer (deadline reminders, imports, reports, alerts) runs as its own process
        # beside the web workers, so a slow job never holds a web request and either side can be
        # restarted alone; jobs are idempotent, so a consumer killed mid-job simply reruns it.
        jobs = None if no_worker else subprocess.Popen([sys.executable, "-m", "xinfang", "run_huey", "--quiet"])
        try:
            server.run()
        except SystemExit as exc:  # gunicorn exits this way when it cannot start (e.g. port in use)
            if exc.code not in (0, None):
                raise CommandError(_("服务未能启动(端口%(port)s可能已被占用),详见上方日志。") % {"port": port}) from None
        finally:
            if jobs is not None:
                jobs.terminate()
                try:
                    jobs.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    jobs.kill()


def _has_shm() -> bool:
    import os

    return os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK)
