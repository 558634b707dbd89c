"""The citizen's journey in a real browser: a citizen petitions online, the bureau routes the case,
the organ accepts and replies, and the citizen follows it with the number and query code,
evaluates the organ and the bureau, and asks for 复查 one level up (Art.17, 22, 23, 32, 35)."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, VALID_ID
from xinfang.cases.models import Case, State

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_submits_tracks_evaluates_and_asks_for_review(browser_page, cast):
    page = browser_page
    blocked: list[str] = []  # anything the Content-Security-Policy refused (inline script or style)
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)

    # 1. The citizen petitions online, in Chinese, on a phone-sized screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.clear_cookies()
    page.goto(page.base_url + "/portal/submit/")
    assert page.get_attribute("html", "lang") == "zh-Hans"
    page.fill("input[name=name]", "刘市民")
    page.fill("input[name=id_number]", VALID_ID)
    page.fill("input[name=phone]", "13800138000")
    page.fill("input[name=address]", "东湖区幸福里3栋")
    page.select_option("select[name=bureau]", str(cast.bureau.pk))
    page.check("input[name=category][value=claim]")
    assert page.is_visible(".p-guide[data-category=claim]") and not page.is_visible(".p-guide[data-category=report]")
    page.fill("input[name=title]", "小区电梯长期故障无人维修")
    page.fill("textarea[name=content]", "幸福里小区3栋电梯自今年3月起多次故障,物业拖延不修,请求督促维修。")
    page.focus("input[name=privacy]")
    page.keyboard.press("Space")  # the notice is accepted with the keyboard
    page.click("form.p-form button[type=submit]")
    page.wait_for_url("**/portal/submitted/**")
    number = page.inner_text("#case-number").strip()
    code = page.inner_text("#query-code").strip()
    case = Case.objects.get(number=number)
    assert case.state == State.REGISTERED and case.registered_by is None and len(code) == 8

    # 2. The registrar routes it to 住建局; 3. the organ accepts it and replies with a 意见书.
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, "registrar", PASSWORD)
    page.goto(page.base_url + f"/cases/{case.pk}/act/route/")
    page.check("input[name=kind][value=forward]")
    page.select_option("select[name=organ]", str(cast.housing.pk))
    page.click(".action-card button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")
    login(page, "handler", PASSWORD)
    page.goto(page.base_url + f"/cases/{case.pk}/act/accept/")
    page.check("input[name=route][value=r6]")
    page.click(".action-card button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")
    page.goto(page.base_url + f"/cases/{case.pk}/act/reply/")
    page.check("input[name=outcome][value=support]")
    page.fill("textarea[name=opinion]", "经调查属实,已责令物业公司于30日内完成维修。")
    page.fill("textarea[name=facts]", "经现场核查,该栋电梯自2026年3月起多次停运。")
    page.fill("textarea[name=basis]", "《中华人民共和国特种设备安全法》第四十二条")
    page.click(".action-card button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")

    # 4. The citizen, logged out, tracks the case with the number and the code.
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.clear_cookies()
    page.goto(page.base_url + "/portal/track/")
    page.fill("input[name=number]", number)
    page.fill("input[name=code]", code)
    page.click("form.p-form button[type=submit]")
    page.wait_for_url(f"**/portal/cases/{case.pk}/")
    html = page.content()
    assert "已答复" in html and cast.housing.name in html and "信访处理意见书" in html
    assert "王承办" not in html and "李登记" not in html

    # 5. The citizen rates the organ and the bureau separately.
    page.check("input[name=organ_satisfaction][value=basic]")
    page.check("input[name=bureau_satisfaction][value=satisfied]")
    page.click("#evaluate button[type=submit]")
    page.wait_for_url(f"**/portal/cases/{case.pk}/")
    assert "感谢您的评价" in page.content()

    # 6. … and asks for 复查, which goes to the organ one level up (Art.35).
    page.fill("#request-review textarea[name=reason]", "维修至今仍未完成,请求上一级机关复查。")
    page.click("#request-review button[type=submit]")
    page.wait_for_url(f"**/portal/cases/{case.pk}/")
    assert cast.city_gov.name in page.content()
    case.refresh_from_db()
    assert case.state == State.REVIEW and case.current_organ == cast.city_gov
    assert (case.satisfaction_organ, case.satisfaction_bureau) == ("basic", "satisfied")
    assert blocked == []
