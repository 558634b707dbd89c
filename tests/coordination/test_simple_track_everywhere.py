"""The simplified track (简易办理) counts wherever a handling limit counts: the on-time rate, the
acceptance notice, and the limits the petitioner sees on the portal."""
import datetime as dt

from tests.conftest import NOW
from xinfang.analytics.metrics import compute_metrics
from xinfang.cases import workflow
from xinfang.documents.models import DocKind
from xinfang.documents.render import compose
from xinfang.portal.services import PUBLIC_RULES


def test_a_simplified_case_replied_after_its_limit_is_late(cast, make_case, travel):
    simple = workflow.accept_case(cast.handler, make_case("pending"), route="r6", track="simple")
    travel(NOW + dt.timedelta(days=20))  # 10-day limit run out, 60 days would not have
    workflow.reply_case(cast.handler, simple, outcome="support", opinion="已处理", facts="属实", basis="依据")
    m = compute_metrics(cast.admin, start=dt.date(2026, 5, 1), end=dt.date(2026, 6, 30))["on_time_completion"]
    assert simple in set(m.cases("late")) and simple not in set(m.cases("numerator"))


def test_the_acceptance_notice_states_the_simplified_limit(cast, make_case):
    case = workflow.accept_case(cast.handler, make_case("pending"), route="r6", track="simple")
    text = "".join(compose(case.documents.get(kind=DocKind.ACCEPTANCE)).body)
    assert "适用简易办理" in text and "10日内办结" in text and "60日内办结" not in text


def test_the_portal_shows_the_simplified_limit():
    assert "simple_handle" in PUBLIC_RULES
