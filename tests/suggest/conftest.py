"""A small synthetic world for suggestion tests: two topics, two organs, distinctive texts."""
from __future__ import annotations

import pytest

from xinfang.cases.models import Case, Category, State, Topic
from xinfang.suggest.models import Rule

HOUSING_TEXTS = ["小区电梯长期故障物业不修", "物业公司乱收物业费", "小区电梯停运物业推诿", "物业服务差电梯坏了",
                 "楼道电梯故障物业不管", "物业费上涨不合理", "小区物业管理混乱", "电梯困人物业不处理"]
LABOUR_TEXTS = ["公司拖欠工资三个月", "工地老板欠薪不还", "单位不缴社保拖欠工资", "讨要农民工工资无果",
                "工厂拖欠加班工资", "包工头拖欠工资跑路", "企业欠发工资半年", "拖欠工资劳动监察不管"]


@pytest.fixture
def topics(db):
    root = Topic.objects.create(name="城乡建设")
    labour = Topic.objects.create(name="劳动和社会保障")
    return {"housing": Topic.objects.create(name="物业管理", parent=root), "housing_root": root,
            "labour": Topic.objects.create(name="拖欠工资", parent=labour), "labour_root": labour}


@pytest.fixture
def confirmed(cast, make_case, topics):
    """16 cases the staff have confirmed (routed and accepted): housing → 住建局, wages → 人社局.
    Built through registration, then moved on in bulk (the workflow itself is tested elsewhere)."""
    ids = []
    for texts, topic, category, organ in ((HOUSING_TEXTS, topics["housing"], Category.CLAIM, cast.housing),
                                          (LABOUR_TEXTS, topics["labour"], Category.SUGGESTION, cast.labour)):
        for i, t in enumerate(texts):
            case = make_case(title=t, content=f"{t},请求尽快处理。编号{i}", category=category, topic=topic)
            Case.objects.filter(pk=case.pk).update(state=State.HANDLING, handling_organ=organ)
            ids.append(case.pk)
    return ids


@pytest.fixture
def rules(cast, topics):
    legal = Rule.objects.create(name="涉法涉诉", keywords="判决 法院 执行", organ=cast.legal, route_kind="legal", priority=100)
    discipline = Rule.objects.create(name="检举控告", keywords="贪污、受贿", organ=cast.discipline, route_kind="discipline",
                                     set_category=Category.REPORT, priority=100)
    wages = Rule.objects.create(name="欠薪", keywords="欠薪,拖欠工资", organ=cast.labour, set_topic=topics["labour"], priority=10)
    by_topic = Rule.objects.create(name="物业", organ=cast.housing, priority=5)
    by_topic.topics.add(topics["housing_root"])
    return {"legal": legal, "discipline": discipline, "wages": wages, "by_topic": by_topic}
