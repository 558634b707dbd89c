"""People's mediation of petition disputes (Art.33): referral from intake or handling, sessions,
an agreement document or failure, judicial confirmation; who may do what; who may see it."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.cases.test_workflow import refuse
from xinfang.audit.models import AuditEntry
from xinfang.cases.models import State
from xinfang.documents.models import DocKind
from xinfang.documents.render import compose, render_docx, render_pdf
from xinfang.mediation import services
from xinfang.mediation.models import Mediation, Mediator, Status
from xinfang.orgs.models import Level, Organ, OrganKind, Role, User


@pytest.fixture
def committee(cast):
    organ = Organ.objects.create(name="江州市人民调解委员会", short_name="江调", code="JZTJ", level=Level.CITY,
                                 kind=OrganKind.MEDIATION, region=cast.city)
    user = User.objects.create_user("mediator", password="x", organ=organ, roles=[Role.MEDIATOR], full_name="梁调解")
    person = Mediator.objects.create(organ=organ, name="梁调解", user=user, languages="普通话、英语", serves_foreign=True)
    return organ, user, person


def session(user, mediation):
    return services.log_session(user, mediation, held_at=timezone.now() - dt.timedelta(hours=1), place="调委会调解室",
                                participants="信访人、物业公司代表", notes="双方陈述意见,物业同意维修。")


def test_a_dispute_is_mediated_to_an_agreement_with_its_document_art33(cast, make_case, committee):
    organ, user, person = committee
    case = make_case("handling")
    mediation = services.refer(cast.handler, case, organ=organ, mediator=person, note="物业纠纷,双方同意调解")
    assert mediation.stage == "handling" and mediation.is_open
    case.refresh_from_db()
    assert case.state == State.HANDLING and case.organ_links.filter(organ=organ).exists()
    session(user, mediation)
    done = services.conclude(user, mediation, outcome=Status.AGREED, terms="物业公司于6月15日前修复电梯。\n信访人不再就此事项信访。")
    doc = done.document
    assert doc.kind == DocKind.MEDIATION_AGREEMENT and doc.organ == organ and doc.number.startswith("江调调协〔2026〕")
    text = "".join(compose(doc).body)
    assert "梁调解" in text and "物业公司于6月15日前修复电梯" in text and "司法确认" in text
    assert render_docx(doc)[:2] == b"PK" and render_pdf(doc)[:4] == b"%PDF"
    assert [e.action for e in case.events.order_by("pk")][-2:] == ["mediation_refer", "mediation_end"]
    assert case.events.get(action="mediation_end").label == "调解结束"
    services.confirm(cast.handler, done, court="江州市东湖区人民法院", confirmed_on=timezone.localdate(), number="(2026)粤0102民特1号")
    assert Mediation.objects.get(pk=done.pk).confirmed_on == timezone.localdate()
    assert AuditEntry.objects.filter(action__startswith="mediation.").count() == 4


def test_a_settlement_gives_a_settlement_agreement_and_cannot_be_court_confirmed(cast, make_case, committee):
    organ, user, _person = committee
    mediation = services.refer(cast.registrar, make_case("registered"), organ=organ)
    assert mediation.stage == "intake"
    session(user, mediation)
    done = services.conclude(user, mediation, outcome=Status.SETTLED, terms="双方自行协商一致。")
    assert done.document.kind == DocKind.SETTLEMENT_AGREEMENT
    refuse(services.confirm, user, done, court="法院", confirmed_on=timezone.localdate(), number="1", match="人民调解协议")


def test_failure_returns_the_case_to_handling_and_it_can_be_referred_again(cast, make_case, committee):
    organ, user, _person = committee
    case = make_case("handling")
    mediation = services.refer(cast.handler, case, organ=organ)
    refuse(services.refer, cast.handler, case, organ=organ, match="已在调解中")
    done = services.conclude(user, mediation, outcome=Status.FAILED, reason="物业公司拒绝调解")
    assert done.document is None and done.status == Status.FAILED
    case.refresh_from_db()
    assert case.state == State.HANDLING
    assert services.refer(cast.handler, case, organ=organ).is_open


@pytest.mark.parametrize(("who", "state", "category", "message"), [
    ("other", "handling", "claim", "只有当前办理机关"),
    ("handler", "replied", "claim", "不能委托调解"),
    ("handler", "handling", "suggestion", "申诉求决类"),
])
def test_referral_refusals_change_nothing(cast, make_case, committee, who, state, category, message):
    organ, _user, _person = committee
    case = make_case(state, category=category)
    refuse(services.refer, getattr(cast, who), case, organ=organ, match=message)
    assert not Mediation.objects.exists()


def test_only_the_mediators_run_it_and_agreements_need_a_session_and_terms(cast, make_case, committee):
    organ, user, _person = committee
    mediation = services.refer(cast.handler, make_case("handling"), organ=organ)
    refuse(session, cast.handler, mediation, match="调解组织或调解员")
    refuse(services.conclude, user, mediation, outcome=Status.AGREED, terms="x", match="先登记调解记录")
    session(user, mediation)
    refuse(services.conclude, user, mediation, outcome=Status.AGREED, terms=" ", match="协议内容")
    refuse(services.conclude, user, mediation, outcome=Status.FAILED, match="原因")
    refuse(services.log_session, user, mediation, held_at=timezone.now() + dt.timedelta(hours=2), place="x",
           participants="x", notes="x", match="不能晚于现在")


def test_the_pages(client, cast, make_case, committee):
    organ, user, _person = committee
    case = make_case("handling")
    refer_url = reverse("mediation:refer", args=[case.pk])
    assert client.get(refer_url).status_code == 302  # anonymous: to the login page
    client.force_login(cast.other)
    assert client.get(refer_url).status_code == 404  # another organ does not see the case
    client.force_login(cast.handler)
    assert refer_url in client.get(reverse("case_detail", args=[case.pk])).content.decode()
    response = client.post(refer_url, {"organ": "", "note": ""})
    assert response.status_code == 400 and "请选择调解组织" in response.content.decode()
    response = client.post(refer_url, {"organ": organ.pk, "note": "物业纠纷"})
    mediation = Mediation.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("mediation:detail", args=[mediation.pk])
    detail = reverse("mediation:detail", args=[mediation.pk])
    client.force_login(user)  # the mediation committee sees the case it was linked to
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    response = client.post(detail, {"op": "session", "held_at": "2026-06-01 08:00", "place": "调解室",
                                    "participants": "双方", "notes": "达成一致"})
    assert response.status_code == 302
    response = client.post(detail, {"op": "conclude", "outcome": "agreed", "terms": ""})
    assert response.status_code == 400 and "协议内容" in response.content.decode()
    client.post(detail, {"op": "conclude", "outcome": "agreed", "terms": "物业修复电梯"})
    assert Mediation.objects.get().status == Status.AGREED
    client.force_login(cast.other)
    assert client.get(detail).status_code == 404
    client.force_login(cast.handler)
    page = client.get(reverse("mediation:index")).content.decode()
    assert case.number in page and "梁调解" in page
