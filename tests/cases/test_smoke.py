from xinfang.cases.models import State


def test_walks_the_whole_lifecycle(make_case):
    case = make_case("closed")
    assert case.state == State.CLOSED and case.closure == "re_reviewed"
    assert [e.action for e in case.events.all()] == [
        "register", "route", "accept", "reply", "request_review", "review", "request_re_review", "re_review"]
    assert case.documents.count() == 5
