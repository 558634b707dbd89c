"""`xinfang loadtest`: many clients submit petitions at once through the portal and the API of a
running server; afterwards every submission must be exactly one case (none lost, none doubled).

Run it against a server started with the limits meant for real citizens raised, e.g.

    XINFANG_PORTAL_SUBMITS_PER_IP_DAY=1000000 XINFANG_API_RATE=1000000/m xinfang serve --workers 4
    xinfang loadtest --clients 50 --cases 10000

(same data directory / DATABASE_URL for both: the load test reads the database afterwards). A
share of the submissions is deliberately sent twice — the same portal form token or the same
Idempotency-Key, as a double click or a client retry would — and must still give one case.
Exits with status 1 when a submission is lost or duplicated, or a request failed.
"""
from __future__ import annotations

import collections
import http.cookiejar
import json
import random
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError

from xinfang.bench import percentiles
from xinfang.cases.validators import id_check_digit

MARK = "压测"
PROBLEMS = ["小区冬季供暖温度长期不达标", "道路破损坑洼多时无人修复", "楼上住户夜间噪音长期扰民", "用人单位拖欠工资三个月",
            "小区电梯频繁故障物业拖延维修", "附近工地夜间违规施工", "公交站点撤销后出行不便", "学校周边占道经营严重",
            "排水管道堵塞污水外溢", "老旧小区加装电梯协调困难", "医保报销手续繁琐", "企业违规排放异味废气"]


def petition_text(rng: random.Random, i: int, title: str) -> str:
    """Varied text, so the load also exercises duplicate screening realistically."""
    from xinfang.demo import texts

    return (f"{title}:本人住{texts.estate(rng)},{rng.choice(PROBLEMS)},地点在{texts.road(rng)}附近,"
            f"已持续{rng.randint(2, 30)}个月,多次反映未果,请求有关部门依法处理。(第{i}号)")


def id_number(i: int) -> str:
    """A checksum-valid resident ID, different for each i (so per-person limits do not interfere)."""
    first17 = f"110101{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    return first17 + id_check_digit(first17)


class Client:
    """One simulated client: its own cookies (CSRF), its own connection reuse."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base.rstrip("/"), token
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())
        self.csrf = None

    def _open(self, request):
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def portal(self, i: int, title: str, bureau: int, token: str) -> int:
        if self.csrf is None:
            self._open(urllib.request.Request(self.base + "/portal/submit/"))
            self.csrf = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        form = {
            "csrfmiddlewaretoken": self.csrf, "token": token, "name": f"压测{i % 97}号", "id_number": id_number(i),
            "phone": f"139{i:08d}"[-11:], "address": f"基准市压测路{i}号", "bureau": str(bureau), "category": "claim",
            "title": title, "content": petition_text(random.Random(i), i, title), "privacy": "on",
        }
        request = urllib.request.Request(self.base + "/portal/submit/", data=urllib.parse.urlencode(form).encode(),
                                         headers={"Referer": self.base + "/portal/submit/"})
        return self._open(request)[0]

    def api(self, i: int, title: str, key: str) -> int:
        body = {"channel": "online", "title": title, "content": petition_text(random.Random(i), i, title),
                "category": "claim", "petitioners": [{"name": f"压测{i % 89}号", "id_number": id_number(i),
                                                      "phone": f"138{i:08d}"[-11:]}]}
        request = urllib.request.Request(self.base + "/api/v1/cases", data=json.dumps(body).encode(), method="POST",
                                         headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key,
                                                  "Content-Type": "application/json"})
        return self._open(request)[0]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 after a portal submission is the success; it need not be followed


class Command(BaseCommand):
    help = "Submit many petitions at once through the portal and the API of a running server; verify none is lost or doubled."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running server")
        parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
        parser.add_argument("--cases", type=int, default=10000, help="submissions in all (default 10000)")
        parser.add_argument("--api-share", type=float, default=0.5, help="share sent through the API (default 0.5)")
        parser.add_argument("--retry-share", type=float, default=0.05,
                            help="share sent twice with the same form token / Idempotency-Key (default 0.05)")
        parser.add_argument("--bureau", help="code of the petition bureau receiving them (default: the first)")
        parser.add_argument("--api-user", help="username of a registrar of that bureau, for the API token "
                                               "(default: the first active registrar there)")

    def handle(self, *args, url, clients, cases, api_share, retry_share, bureau, api_user, **options):
        from xinfang.api.models import ApiToken
        from xinfang.cases.models import Case
        from xinfang.orgs.models import Organ, OrganKind, Role, User

        if clients < 1 or cases < 1:
            raise CommandError("--clients and --cases must be positive")
        bureaus = Organ.objects.filter(kind=OrganKind.BUREAU, is_active=True).order_by("level", "name")
        organ = bureaus.filter(code=bureau).first() if bureau else bureaus.first()
        if organ is None:
            raise CommandError(f"no active petition bureau {bureau or ''}".strip())
        users = User.objects.filter(organ=organ, is_active=True)
        user = users.filter(username=api_user).first() if api_user else next(
            (u for u in users.order_by("username") if u.has_role(Role.REGISTRAR)), None)
        if user is None or not user.has_role(Role.REGISTRAR):
            raise CommandError(f"no active registrar {api_user or ''} at {organ.name}".strip())
        token_row, token = ApiToken.issue(user, f"loadtest {time.strftime('%Y-%m-%d %H:%M')}")
        run = secrets.token_hex(3)
        rng = random.Random(run)
        plan = [(i, "api" if rng.random() < api_share else "portal", rng.random() < retry_share) for i in range(cases)]
        latencies: dict[str, list[float]] = collections.defaultdict(list)
        failures: collections.Counter = collections.Counter()
        lock = threading.Lock()
        local = threading.local()

        def submit(item):
            i, channel, twice = item
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = Client(url, token)
            title = f"{MARK}{run}-{i:06d}"
            key = secrets.token_urlsafe(24)
            for _attempt in range(2 if twice else 1):
                start = time.perf_counter()
                try:
                    status = client.api(i, title, key) if channel == "api" else client.portal(i, title, organ.pk, key)
                except OSError as exc:
                    status = type(exc).__name__
                elapsed = (time.perf_counter() - start) * 1000
                ok = status in (200, 201) if channel == "api" else status in (302, 303)
                with lock:
                    latencies[channel].append(elapsed)
                    if not ok:
                        failures[f"{channel} {status}"] += 1

        self.stdout.write(f"run {run}: {cases} submissions ({sum(1 for p in plan if p[1] == 'api')} API, "
                          f"{sum(1 for p in plan if p[2])} sent twice) by {clients} clients to {url} …")
        started = time.perf_counter()
        try:
            with ThreadPoolExecutor(max_workers=clients) as pool:
                list(pool.map(submit, plan))
        finally:
            token_row.revoke()
        seconds = time.perf_counter() - started

        titles = collections.Counter(Case.objects.filter(title__startswith=f"{MARK}{run}-").values_list("title", flat=True))
        expected = {f"{MARK}{run}-{i:06d}" for i in range(cases)}
        lost = len(expected - set(titles))
        doubled = sum(1 for n in titles.values() if n > 1)
        requests = sum(len(v) for v in latencies.values())
        self.stdout.write(f"{requests} requests in {seconds:.1f} s: {requests / seconds:.1f} requests/s, "
                          f"{len(titles)} cases created")
        for channel, samples in sorted(latencies.items()):
            p50, p95 = percentiles(samples)
            self.stdout.write(f"  {channel}: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
        for what, n in failures.most_common():
            self.stdout.write(f"  failed: {what} × {n}")
        self.stdout.write(f"lost: {lost}, duplicated: {doubled}")
        if lost or doubled or failures:
            raise CommandError("load test failed: submissions lost, duplicated or refused")
        self.stdout.write(self.style.SUCCESS("every submission is exactly one case"))
