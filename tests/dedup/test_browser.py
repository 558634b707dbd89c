"""The registration panel in a real browser: typing a repeat shows the earlier case with its score
and the Art.19 refusal; 对比 shows both texts; 填为关联原事项 fills the form (htmx + static JS)."""
from __future__ import annotations

import pytest

from tests.browser.conftest import browser_page, login  # noqa: F401
from tests.conftest import PASSWORD

from .conftest import EDITED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_panel_shows_candidates_while_typing(browser_page, make_case):  # noqa: F811
    earlier = make_case("handling")
    page = browser_page
    login(page, "registrar", PASSWORD)
    page.goto(page.base_url + "/cases/new/")
    page.fill("input[name=p-0-name]", "刘市民")
    page.fill("input[name=p-0-phone]", "13800138000")
    page.fill("input[name=title]", "电梯又坏了")
    page.fill("textarea[name=content]", EDITED)
    results = page.locator("#dedup-results")
    results.get_by_role("link", name=earlier.number).wait_for()
    assert "重复信访" in results.inner_text() and "第19条" in results.inner_text()
    results.get_by_role("button", name="对比").click()
    page.locator("#dedup-compare mark.dup-same").first.wait_for()
    results.get_by_role("button", name="填为关联原事项").click()
    assert page.input_value("#id_related_number") == earlier.number
    assert page.is_checked("#id_same_facts")
