import pytest

from xinfang.cases import workflow

from ..conftest import VALID_ID, petition_data

PERSON = dict(name="刘市民", id_number=VALID_ID, phone="13800138000", address="东湖区幸福里3栋")
OTHER_ID = "11010519491231002X"
EDITED = "本人住东湖区幸福里小区3栋，电梯从今年3月开始多次故障，物业一直拖延不修，再次请求督促维修！"
DIFFERENT = "东湖区幸福里小区门口的路灯坏了两个月，晚上出行很不安全，请求尽快修复路灯。"


@pytest.fixture
def register(cast):
    """register(content=..., person=PERSON, user=cast.registrar, **fields) → a new case."""
    def reg(*, person=None, user=None, **fields):
        pets = [workflow.PetitionerData(**(person or PERSON))]
        return workflow.register_case(user or cast.registrar, petition_data(**fields), pets)
    return reg
