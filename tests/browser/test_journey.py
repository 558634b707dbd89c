"""The main journey in a real browser: the registrar registers and routes a letter, the organ
accepts it, its head extends the limit, the organ replies, and the case shows 已答复 with its
documents (Art.22, 23, 34, 32)."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, VALID_ID
from xinfang.cases.models import Case, State

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_route_accept_extend_reply(browser_page, cast):
    page = browser_page

    # 1. The registrar registers a letter and routes it to 住建局 on one screen.
    login(page, "registrar", PASSWORD)
    page.goto(page.base_url + "/cases/new/")
    page.select_option("select[name=channel]", "letter")
    page.select_option("select[name=category]", "claim")
    page.fill("input[name=title]", "小区电梯长期故障无人维修")
    page.fill("textarea[name=content]", "幸福里小区3栋电梯自今年3月起多次故障,物业拖延不修,请求督促维修。")
    page.fill("input[name=p-0-name]", "刘市民")
    page.fill("input[name=p-0-id_number]", VALID_ID)
    page.fill("input[name=p-0-phone]", "13800138000")
    page.fill("input[name=p-0-address]", "东湖区幸福里3栋")
    page.select_option("select[name=route_kind]", "forward")
    page.select_option("select[name=route_organ]", str(cast.housing.pk))
    page.click("button[name=submit][value=route]")
    page.wait_for_url("**/cases/*/")
    assert "待受理" in page.content()
    case = Case.objects.get()
    assert case.state == State.PENDING and case.current_organ == cast.housing

    # 2. The handling organ finds it in its inbox and accepts it on route ⑥.
    login(page, "handler", PASSWORD)
    page.goto(page.base_url + "/inbox/?tab=pending")
    page.click(f"text={case.number}")
    page.click(f"a[href='/cases/{case.pk}/act/accept/']")
    page.check("input[name=route][value=r6]")
    page.click(".action-card button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")
    assert "办理中" in page.content()

    # 3. The head approves one extension of 20 days, with the reason.
    login(page, "head", PASSWORD)
    page.goto(page.base_url + f"/cases/{case.pk}/act/extend/")
    page.fill("input[name=days]", "20")
    page.fill("textarea[name=reason]", "需现场鉴定电梯安全状况,鉴定周期较长。")
    page.click(".action-card button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")

    # 4. The handler replies with a 信访处理意见书.
    login(page, "handler", PASSWORD)
    page.goto(page.base_url + f"/cases/{case.pk}/act/reply/")
    page.check("input[name=outcome][value=support]")
    page.fill("textarea[name=opinion]", "经调查属实,已责令物业公司于30日内完成维修。")
    page.fill("textarea[name=facts]", "经现场核查,该栋电梯自2026年3月起多次停运,物业公司未按合同及时维修。")
    page.fill("textarea[name=basis]", "《中华人民共和国特种设备安全法》第四十二条")
    page.click(".action-card button[type=submit]")
    page.wait_for_url(f"**/cases/{case.pk}/")

    # 5. The case shows 已答复 and its documents, which download as PDF.
    html = page.content()
    assert "已答复" in html
    for title in ("转送单", "受理告知书", "延期告知书", "信访处理意见书"):
        assert title in html, title
    with page.expect_download() as info:
        page.click("text=PDF >> nth=-1")
    path = info.value.path()
    assert open(path, "rb").read(5) == b"%PDF-"
    case.refresh_from_db()
    assert case.state == State.REPLIED and case.extended
