"""Helpers for the portal tests: a valid submission, and a case submitted online and walked on by
the staff of the standard cast."""
from __future__ import annotations

import re
import secrets

import pytest
from django.urls import reverse

from tests.conftest import VALID_ID
from xinfang.cases import workflow
from xinfang.cases.models import Case, RouteKind

OTHER_ID = "440102198506151233"  # checksum-valid, another person


def submit_data(cast, **over) -> dict:
    data = {
        "token": secrets.token_urlsafe(32),
        "name": "刘市民", "id_number": VALID_ID, "phone": "13800138000", "email": "",
        "address": "东湖区幸福里3栋", "bureau": str(cast.bureau.pk), "category": "claim",
        "title": "小区电梯长期故障无人维修",
        "content": "幸福里小区3栋电梯自今年3月起多次故障,物业拖延不修,请求督促维修。",
        "privacy": "on",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def code_from(response) -> str:
    match = re.search(r'id="query-code">([A-Z0-9]+)<', response.content.decode())
    assert match, "the success page shows the query code"
    return match.group(1)


@pytest.fixture
def submit(client, cast):
    """submit(**fields) -> (case, code): a petition submitted through the portal by `client`."""
    def run(c=None, **over):
        c = c or client
        response = c.post(reverse("portal:submit"), submit_data(cast, **over), follow=True)
        assert response.status_code == 200, response.content.decode()[:2000]
        code = code_from(response)
        number = re.search(r'id="case-number">([A-Z0-9-]+)<', response.content.decode()).group(1)
        return Case.objects.get(number=number), code
    return run


@pytest.fixture
def replied(cast, submit):
    """A claim submitted online, routed, accepted on route ⑥ and answered with a 意见书."""
    def run(**over):
        case, code = submit(**over)
        case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.housing, note="内部备注:请王科长阅办")
        case = workflow.accept_case(cast.handler, case, route="r6", note="承办人内部意见")
        case = workflow.reply_case(cast.handler, case, outcome="support", opinion="经调查,已责成物业限期维修。",
                                   facts="电梯自3月起多次故障属实。", basis="《特种设备安全法》第四十二条")
        return case, code
    return run
