"""The contract other apps rely on: export_judgements and screen_draft."""
from xinfang.cases import workflow
from xinfang.dedup import service
from xinfang.dedup.models import Kind, Link

from ..conftest import VALID_ID, petition_data

PERSON = dict(name="刘市民", id_number=VALID_ID, phone="13800138000", address="东湖区幸福里3栋")


def test_repeat_is_linked_and_exported(cast, make_case):
    first = make_case("handling")
    again = workflow.register_case(cast.registrar, petition_data(content="本人住东湖区幸福里小区3栋，电梯从今年3月开始多次故障，物业一直拖延不修，再次请求督促维修！"),
                                   [workflow.PetitionerData(**PERSON)])
    link = Link.objects.get(case=again)
    assert link.earlier_id == first.pk and link.kind == Kind.REPEAT and link.same_person
    judged = service.export_judgements([first.pk, again.pk])
    assert list(judged) == [again.pk]
    assert judged[again.pk][0] == first.number and 0.5 <= judged[again.pk][1] <= 1
