"""The panels and the acceptance page: right user, anonymous → login, other organ → 404."""
from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.orgs.models import Role, User
from xinfang.suggest import training
from xinfang.suggest.models import Suggestion

pytestmark = pytest.mark.django_db


def test_draft_panel_shows_rule_suggestion_with_fill_buttons(cast, rules, client):
    client.force_login(cast.registrar)
    response = client.post(reverse("suggest:draft"), {"title": "法院判决不执行", "content": "请求督促法院执行判决"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "江州市委政法委" in html and "诉访分离" in html and 'data-suggest-fill="route_organ"' in html
    assert f'data-suggest-value="{cast.legal.pk}"' in html and 'data-suggest-kind="legal"' in html


def test_draft_panel_shows_model_topic_and_category(cast, confirmed, topics, client):
    training.train()
    client.force_login(cast.registrar)
    html = client.post(reverse("suggest:draft"), {"title": "公司拖欠工资", "content": "老板欠薪三个月"}).content.decode()
    assert "拖欠工资" in html and f'data-suggest-fill="topic" data-suggest-value="{topics["labour"].pk}"' in html
    assert 'data-suggest-fill="category"' in html and "%" in html


def test_draft_panel_refuses_anonymous_and_non_registrars(cast, client):
    response = client.post(reverse("suggest:draft"), {"title": "法院判决", "content": "执行"})
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(cast.handler)
    assert client.post(reverse("suggest:draft"), {"title": "法院判决", "content": "执行"}).status_code == 404
    client.force_login(cast.registrar)
    assert client.get(reverse("suggest:draft")).status_code == 405


def test_registration_page_includes_the_panel_without_inline_script(cast, client):
    client.force_login(cast.registrar)
    html = client.get(reverse("case_register")).content.decode()
    assert 'id="suggest-panel"' in html and "suggest/suggest.js" in html
    panel = html[html.index('id="suggest-panel"'):html.index("suggest/suggest.js")]
    assert "style=" not in panel and "onclick" not in panel


def test_case_panel_for_the_organ_and_404_for_another(cast, rules, make_case, client):
    case = make_case(title="法院判决三年未执行", content="请求执行")
    assert Suggestion.objects.get(case=case).organ_id == cast.legal.pk
    client.force_login(cast.registrar)
    html = client.get(reverse("suggest:case", args=[case.pk])).content.decode()
    assert "江州市委政法委" in html and "诉访分离" in html
    client.force_login(cast.other)
    assert client.get(reverse("suggest:case", args=[case.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("suggest:case", args=[case.pk])).status_code == 302


def test_case_page_loads_the_panel_and_the_route_form_preselects_the_organ(cast, rules, make_case, client):
    case = make_case(title="法院判决三年未执行", content="请求执行", law_related=True)
    client.force_login(cast.registrar)
    assert reverse("suggest:case", args=[case.pk]) in client.get(reverse("case_detail", args=[case.pk])).content.decode()
    form = client.get(reverse("case_action", args=[case.pk, "route"])).context["form"]
    assert form.fields["organ"].initial == cast.legal.pk and form.fields["kind"].initial == "legal"


def test_acceptance_page_for_analysts_and_admins_only(cast, rules, make_case, client):
    make_case(title="法院判决三年未执行", content="请求执行")
    analyst = User.objects.create_user("analyst", password="x", organ=cast.bureau, roles=[Role.ANALYST])
    client.force_login(analyst)
    response = client.get(reverse("suggest:index"))
    assert response.status_code == 200 and "采纳率" in response.content.decode()
    client.force_login(cast.admin)
    assert client.get(reverse("suggest:index")).status_code == 200
    client.force_login(cast.handler)
    assert client.get(reverse("suggest:index")).status_code == 404
    client.logout()
    assert client.get(reverse("suggest:index")).status_code == 302


def test_admin_pages_load(cast, rules, confirmed, client):
    training.train()
    client.force_login(cast.admin)
    for name in ("rule", "modelversion", "suggestion"):
        assert client.get(reverse(f"admin:suggest_{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:suggest_rule_change", args=[rules["legal"].pk])).status_code == 200
    assert client.get(reverse("admin:suggest_rule_add")).status_code == 200
    assert client.get(reverse("admin:suggest_suggestion_add")).status_code == 403
