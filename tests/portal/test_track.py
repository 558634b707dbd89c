"""网上查: tracking with the case number and query code, what a citizen sees, and what never leaks."""
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from xinfang.cases.access import Citizen, get_case_for_user, transition_refusal
from xinfang.documents.models import DocKind

from .conftest import OTHER_ID

pytestmark = pytest.mark.django_db


def track(client, number, code, **extra):
    return client.post(reverse("portal:track"), {"number": number, "code": code}, **extra)


def test_the_right_code_opens_the_case(cast, submit):
    case, code = submit()
    visitor = Client()
    response = track(visitor, case.number.lower(), code.lower())  # case-insensitive, as typed on a phone
    assert response.status_code == 302 and response["Location"] == reverse("portal:case", args=[case.pk])
    html = visitor.get(response["Location"]).content.decode()
    assert case.number in html and case.title in html and cast.bureau.name in html
    assert "网上提交,已登记" in html and "登记后转送交办" in html  # timeline and the running limit


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(cast, submit):
    case, code = submit()
    visitor = Client()
    wrong = track(visitor, case.number, "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA")
    unknown = track(visitor, "JZXF-2026-999999", code)
    assert wrong.status_code == unknown.status_code == 400
    message = "信访事项编号或查询码不正确"
    assert message in wrong.content.decode() and message in unknown.content.decode()
    assert visitor.get(reverse("portal:case", args=[case.pk])).status_code == 404


def test_someone_elses_case_is_404(cast, submit):
    mine, my_code = submit()
    theirs, _code = submit(Client(), id_number=OTHER_ID, name="王五", title="别人的事")
    visitor = Client()
    track(visitor, mine.number, my_code)
    assert visitor.get(reverse("portal:case", args=[mine.pk])).status_code == 200
    assert visitor.get(reverse("portal:case", args=[theirs.pk])).status_code == 404
    assert visitor.post(reverse("portal:evaluate", args=[theirs.pk]), {}).status_code == 404
    assert visitor.post(reverse("portal:request", args=[theirs.pk, "review"]), {"reason": "x"}).status_code == 404
    # A citizen account sees only what it submitted, not a case it merely knows the number of.
    account = Client()
    account.login(username="citizen", password=PASSWORD)
    assert account.get(reverse("portal:case", args=[mine.pk])).status_code == 404


def test_lookups_are_limited_per_case_number(cast, submit, settings):
    settings.PORTAL_FAILURES_PER_CASE_DAY = 2
    case, code = submit()
    for addr in ("10.0.0.1", "10.0.0.2"):
        assert track(Client(), case.number, "WRONG234", REMOTE_ADDR=addr).status_code == 400
    response = track(Client(), case.number, code, REMOTE_ADDR="10.0.0.3")
    assert response.status_code == 429 and "查询尝试次数过多" in response.content.decode()


def test_lookups_are_limited_per_address(cast, submit, settings):
    settings.PORTAL_LOOKUPS_PER_IP_HOUR = 3
    case, code = submit()
    visitor = Client()
    for _ in range(3):
        track(visitor, "JZXF-2026-999999", "WRONG234")
    assert track(visitor, case.number, code).status_code == 429
    assert track(visitor, case.number, code, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_nothing_internal_leaks(cast, replied):
    case, code = replied()
    visitor = Client()
    track(visitor, case.number, code)
    html = visitor.get(reverse("portal:case", args=[case.pk])).content.decode()
    assert "已答复" in html and cast.housing.name in html
    for secret in ("李登记", "王承办", "registrar", "handler", "内部备注", "王科长", "承办人内部意见", "转送单"):
        assert secret not in html, secret
    # The documents addressed to the petitioner are listed and download; the 转送单 between organs does not.
    docs = {d.kind: d for d in case.documents.all()}
    assert "受理告知书" in html and "信访处理意见书" in html
    ok = visitor.get(reverse("portal:document", args=[case.pk, docs[DocKind.OPINION].pk, "docx"]))
    assert ok.status_code == 200 and b"".join(ok.streaming_content)[:2] == b"PK"
    assert visitor.get(reverse("portal:document", args=[case.pk, docs[DocKind.FORWARD].pk, "docx"])).status_code == 404
    assert Client().get(reverse("portal:document", args=[case.pk, docs[DocKind.OPINION].pk, "docx"])).status_code == 404


def test_the_objection_between_organs_stays_internal(cast, submit):
    from xinfang.cases import workflow
    from xinfang.cases.models import RouteKind

    case, code = submit()
    case = workflow.route_case(cast.registrar, case, kind=RouteKind.FORWARD, organ=cast.labour)
    case = workflow.object_case(cast.other, case, reason="不属于人社局职权,内部异议理由")
    visitor = Client()
    track(visitor, case.number, code)
    html = visitor.get(reverse("portal:case", args=[case.pk])).content.decode()
    assert "内部异议理由" not in html and "异议" not in html and "待转送" in html


def test_a_citizen_takes_only_the_petitioners_transitions_on_their_own_case(cast, submit, make_case):
    case, _code = submit()
    other = make_case()
    citizen = Citizen(case_ids=[case.pk])
    assert "机关工作人员" in transition_refusal(citizen, case, "route")
    assert "机关工作人员" in transition_refusal(citizen, case, "accept")
    assert transition_refusal(citizen, other, "evaluate") is not None
    with pytest.raises(Exception):
        get_case_for_user(citizen, other.pk)
    assert get_case_for_user(citizen, case.pk) == case


def test_the_english_switch_translates_the_chrome_and_keeps_the_citizen_on_the_page(client, cast):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("portal:track")})
    assert response.status_code == 302 and response["Location"] == reverse("portal:track")
    html = client.get(reverse("portal:track")).content.decode()
    assert '<html lang="en">' in html


def test_a_lost_code_is_replaced_by_the_bureau_and_the_old_one_stops_working(cast, submit):
    from io import StringIO

    from django.core.management import call_command

    case, old = submit()
    out = StringIO()
    call_command("portal_code", case.number, "--no-send", stdout=out)
    new = out.getvalue().strip().rsplit(" ", 1)[-1]
    assert new != old and len(new) == 8
    assert track(Client(), case.number, old).status_code == 400
    assert track(Client(), case.number, new).status_code == 302
