"""Documents of every kind, each issued by walking a case through the workflow services."""
from __future__ import annotations

import datetime as dt

import pytest

from xinfang.cases import workflow
from xinfang.cases.models import Category, RouteKind
from xinfang.documents.models import DocKind, Document


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Rendered files go to a throw-away directory, never into the project's var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def issued(cast, make_case) -> dict[str, Document]:
    """{kind: Document} with one document of every DocKind, as the services issue them."""
    closed = make_case("closed")  # 转送单, 受理告知书, 信访处理意见书, 复查意见书, 复核意见书
    extended = workflow.extend_deadline(cast.head, make_case("handling"), days=15, reason="需要委托第三方检测电梯安全状况")
    assigned = workflow.route_case(cast.registrar, make_case(), kind=RouteKind.ASSIGN, organ=cast.housing,
                                   assigned_due=dt.date(2026, 6, 20), note="请重点核查物业维修资金使用情况")
    suggestion = make_case("replied", category=Category.SUGGESTION, title="建议增设社区充电桩",
                           content="建议在幸福里小区增设电动自行车充电桩,消除楼道充电隐患。")
    informed = workflow.inform_case(cast.registrar, make_case(), channel="劳动人事争议仲裁",
                                    reason="该事项属于劳动合同纠纷,应当申请劳动人事争议仲裁。")
    refused = workflow.not_accept_case(cast.registrar, make_case(), reason="该事项已由人民法院作出生效判决(条例第二十二条)。")
    again = workflow.not_accept_case(cast.registrar, make_case(related_case=closed, same_facts=True),
                                     reason="信访人以同一事实和理由再次提出请求。")
    docs = {d.kind: d for d in closed.documents.all()}
    for case, kind in ((extended, DocKind.EXTENSION), (assigned, DocKind.ASSIGN), (suggestion, DocKind.REPLY),
                       (informed, DocKind.INFORM), (refused, DocKind.NOT_ACCEPTED), (again, DocKind.NOT_AGAIN)):
        docs[kind] = Document.objects.get(case=case, kind=kind)
    return docs
