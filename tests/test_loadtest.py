"""Robustness under concurrent submissions (trust issue, item 6): many clients submit through the
portal and the API of a live server at once, some of them twice (a double click, a client retry);
every submission becomes exactly one case, on SQLite (WAL) and on PostgreSQL alike (CI runs the
suite on both). `xinfang loadtest` is the same check at full size against a running server."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from xinfang.cases.models import Case


@pytest.fixture
def open_limits(settings):
    settings.PORTAL_SUBMITS_PER_IP_DAY = 10_000
    settings.PORTAL_SUBMITS_PER_ID_DAY = 10_000


@pytest.mark.browser  # a live server with a clock that ticks (no browser is started)
def test_concurrent_portal_and_api_submissions_are_each_one_case(cast, live_server, open_limits):
    out = io.StringIO()
    call_command("loadtest", url=live_server.url, clients=8, cases=48, api_share=0.5, retry_share=0.25,
                 bureau=cast.bureau.code, api_user=cast.registrar.username, stdout=out)
    report = out.getvalue()
    assert "lost: 0, duplicated: 0" in report and "every submission is exactly one case" in report
    assert Case.objects.filter(title__startswith="压测").count() == 48
    assert set(Case.objects.filter(title__startswith="压测").values_list("channel", flat=True)) == {"online"}


@pytest.mark.browser
def test_the_load_test_fails_loudly_when_submissions_are_refused(cast, live_server, settings):
    settings.PORTAL_SUBMITS_PER_IP_DAY = 2  # the citizens' limit is left on: most portal submissions refused
    with pytest.raises(CommandError, match="load test failed"):
        call_command("loadtest", url=live_server.url, clients=4, cases=12, api_share=0.0, retry_share=0.0,
                     bureau=cast.bureau.code, api_user=cast.registrar.username, stdout=io.StringIO())
