"""The staff timeline names who acted; what the petitioner did online shows as the petitioner."""
from __future__ import annotations

from django.urls import reverse

from tests.conftest import VALID_ID
from xinfang.cases import workflow
from xinfang.cases.access import Citizen


def test_an_online_petition_shows_the_petitioner_as_actor(cast, client):
    citizen = Citizen(user=cast.citizen, case_ids=set())
    case = workflow.submit_online(citizen, cast.bureau, {
        "title": "小区电梯长期故障无人维修", "content": "电梯多次故障,请求督促维修。", "category": "claim"},
        [workflow.PetitionerData(name="刘市民", id_number=VALID_ID, phone="13800138000", address="东湖区幸福里3栋")])
    client.force_login(cast.registrar)
    html = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "信访人(网上)" in html and cast.citizen.full_name not in html.split('class="timeline"')[1]
