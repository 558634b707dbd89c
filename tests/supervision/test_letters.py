"""Supervision letters (督办函, 提醒函, 三项建议; Art.14, 39, 40): issue, answer in writing, close."""
from __future__ import annotations

import datetime as dt
import io

import docx
import pytest
from django.urls import reverse

from xinfang.audit.models import AuditEntry
from xinfang.cases.access import WorkflowError
from xinfang.cases.models import Category, Event
from xinfang.documents.models import DocKind, Document
from xinfang.documents.render import render_docx, render_pdf
from xinfang.supervision import services as sv
from xinfang.supervision.models import LetterKind, LetterStatus, SupervisionLetter


def issue(cast, case, kind=LetterKind.SUPERVISE, organ=None, **kw):
    return sv.issue_letter(cast.supervisor, case, kind=kind, organ=organ or cast.housing,
                           reason=kw.pop("reason", "受理后超过30日未见办理进展"), requirement=kw.pop("requirement", "限期办结"), **kw)


def test_supervisor_issues_a_numbered_letter_to_the_organ(cast, handling_case):
    state, version = handling_case.state, handling_case.version
    letter = issue(cast, handling_case)
    doc = letter.document
    assert doc.number == "江信督〔2026〕1号" and doc.kind == DocKind.SUPERVISE and doc.organ == cast.bureau
    assert doc.addressee == cast.housing.name and not doc.for_petitioner
    # Art.39: answer due from the setting (default 15 days).
    assert letter.answer_due == dt.date(2026, 6, 16) and letter.status == LetterStatus.OPEN
    second = issue(cast, handling_case)
    assert second.document.number == "江信督〔2026〕2号"
    # On the timeline, without changing the case's state; audited.
    handling_case.refresh_from_db()
    assert (handling_case.state, handling_case.version) == (state, version)
    event = Event.objects.filter(case=handling_case, action="supervision.letter").first()
    assert event.from_state == event.to_state == state and event.target_organ == cast.housing
    assert AuditEntry.objects.filter(action="supervision.letter", object_id=str(letter.pk)).exists()


def test_answer_days_come_from_the_setting(cast, handling_case, settings):
    settings.SUPERVISION_ANSWER_DAYS = 5
    assert issue(cast, handling_case).answer_due == dt.date(2026, 6, 6)


@pytest.mark.parametrize("who", ["handler", "head", "leader", "registrar", "other"])
def test_only_supervisors_issue_letters(cast, handling_case, who):
    with pytest.raises(sv.Refused, match="督查员"):
        sv.issue_letter(getattr(cast, who), handling_case, kind=LetterKind.SUPERVISE, organ=cast.housing, reason="超期")
    assert not SupervisionLetter.objects.exists() and not Document.objects.filter(kind=DocKind.SUPERVISE).exists()


def test_letter_form_refuses_other_roles_with_a_message(cast, handling_case, as_user):
    url = reverse("supervision:letter_issue", args=[handling_case.pk])
    response = as_user(cast.handler).post(url, {"kind": "supervise", "organ": cast.housing.pk, "reason": "超期"})
    assert response.status_code == 403 and "该操作须由督查员办理。" in response.content.decode()
    assert not SupervisionLetter.objects.exists()


def test_a_case_outside_the_supervisors_subtree_is_missing(cast, as_user):
    # Registered directly at 人社局 (not through the bureau): outside the bureau supervisor's oversight.
    from tests.conftest import petition_data
    from xinfang.cases import workflow

    case = workflow.register_case(cast.other, petition_data(), [workflow.PetitionerData(name="甲")])
    assert as_user(cast.supervisor).get(reverse("supervision:letter_issue", args=[case.pk])).status_code == 404
    with pytest.raises(sv.Refused):
        issue(cast, case, organ=cast.labour)


def test_letter_form_issues_and_shows_defaults(cast, handling_case, as_user):
    client = as_user(cast.supervisor)
    url = reverse("supervision:letter_issue", args=[handling_case.pk])
    page = client.get(url + "?kind=policy_advice")
    assert page.status_code == 200
    assert page.context["form"].initial["organ"] == cast.city_gov  # 完善政策建议: same-level government
    response = client.post(url, {"kind": "supervise", "organ": cast.housing.pk, "reason": "超期未办",
                                 "requirement": "", "answer_due": ""})
    letter = SupervisionLetter.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("supervision:letter_detail", args=[letter.pk])
    bad = client.post(url, {"kind": "supervise", "organ": cast.housing.pk, "reason": " ", "answer_due": ""})
    assert bad.status_code == 400 and SupervisionLetter.objects.count() == 1


def test_default_addressees(cast, handling_case):
    assert sv.default_addressee(handling_case, LetterKind.SUPERVISE, cast.bureau) == cast.housing
    assert sv.default_addressee(handling_case, LetterKind.POLICY, cast.bureau) == cast.city_gov
    assert sv.default_addressee(handling_case, LetterKind.ACCOUNTABILITY, cast.bureau) == cast.city_gov


def test_bad_input_is_refused_and_nothing_is_written(cast, handling_case):
    with pytest.raises(WorkflowError, match="督办事由"):
        issue(cast, handling_case, reason="  ")
    with pytest.raises(WorkflowError, match="晚于今天"):
        issue(cast, handling_case, answer_due=dt.date(2026, 6, 1))
    with pytest.raises(WorkflowError, match="本机关"):
        issue(cast, handling_case, organ=cast.bureau)
    with pytest.raises(WorkflowError, match="函件类型"):
        issue(cast, handling_case, kind="nonsense")
    assert not SupervisionLetter.objects.exists() and not Document.objects.filter(kind=DocKind.SUPERVISE).exists()


def test_no_letter_to_the_accused_organ_of_a_report(cast, make_case):
    """Art.30 ¶3: nothing about a 检举控告 case goes to the accused organ."""
    case = make_case("handling", category=Category.REPORT, accused_organ=cast.urban)
    with pytest.raises(WorkflowError, match="第30条"):
        issue(cast, case, organ=cast.urban)


def test_letters_appear_in_the_receiving_organs_inbox(cast, handling_case, as_user):
    letter = issue(cast, handling_case)
    inbox = as_user(cast.handler).get(reverse("inbox")).content.decode()
    assert letter.document.number in inbox and "待答复的督办函件" in inbox
    assert letter.document.number not in as_user(cast.other).get(reverse("inbox")).content.decode()
    # The organ's letter list and the letter page.
    listing = as_user(cast.handler).get(reverse("supervision:letters")).content.decode()
    assert letter.document.number in listing
    assert as_user(cast.handler).get(reverse("supervision:letter_detail", args=[letter.pk])).status_code == 200


def test_another_organ_cannot_see_or_answer_a_letter(cast, handling_case, as_user):
    letter = issue(cast, handling_case)
    client = as_user(cast.other)
    assert client.get(reverse("supervision:letter_detail", args=[letter.pk])).status_code == 404
    assert client.get(reverse("supervision:letter_download", args=[letter.pk, "pdf"])).status_code == 404
    assert client.post(reverse("supervision:letter_answer", args=[letter.pk]), {"answer": "已办"}).status_code == 404
    letter.refresh_from_db()
    assert letter.status == LetterStatus.OPEN and not letter.answer


def test_the_organ_answers_in_writing_and_the_supervisor_closes(cast, handling_case, as_user):
    letter = issue(cast, handling_case)
    # The supervisor cannot close a letter that has not been answered.
    with pytest.raises(WorkflowError, match="尚未答复"):
        sv.review_answer(cast.supervisor, letter, accept=True)
    response = as_user(cast.handler).post(reverse("supervision:letter_answer", args=[letter.pk]),
                                          {"answer": "已于6月3日约谈物业并督促维修。", "adoption": ""})
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.status == LetterStatus.ANSWERED and letter.answered_by == cast.handler
    # A second answer is refused.
    with pytest.raises(WorkflowError, match="已经答复"):
        sv.answer_letter(cast.handler, letter, answer="再答一次")
    # Only the issuing organ's supervisor reviews it.
    assert as_user(cast.handler).post(reverse("supervision:letter_review", args=[letter.pk]),
                                      {"decision": "close"}).status_code == 403
    # Returning needs a reason; then the organ answers again.
    with pytest.raises(WorkflowError, match="理由"):
        sv.review_answer(cast.supervisor, letter, accept=False)
    sv.review_answer(cast.supervisor, letter, accept=False, note="未说明维修完成时间")
    letter.refresh_from_db()
    assert letter.status == LetterStatus.OPEN
    sv.answer_letter(cast.head, letter, answer="电梯已于6月5日修复。")
    response = as_user(cast.supervisor).post(reverse("supervision:letter_review", args=[letter.pk]),
                                             {"decision": "close", "note": "同意办结"})
    letter.refresh_from_db()
    assert response.status_code == 302 and letter.status == LetterStatus.CLOSED and letter.closed_by == cast.supervisor
    actions = list(Event.objects.filter(case=handling_case, action__startswith="supervision.").values_list("action", flat=True))
    assert actions == ["supervision.letter", "supervision.answer", "supervision.return", "supervision.answer",
                       "supervision.close"]
    # A closed letter leaves the organ's inbox.
    assert letter.document.number not in as_user(cast.handler).get(reverse("inbox")).content.decode()


@pytest.mark.parametrize("who", ["registrar", "supervisor", "leader"])
def test_only_the_receiving_organs_handlers_answer(cast, handling_case, who):
    letter = issue(cast, handling_case)
    with pytest.raises(sv.Refused, match="主送机关"):
        sv.answer_letter(getattr(cast, who), letter, answer="已办")


def test_proposals_must_say_whether_they_were_adopted(cast, handling_case, as_user):
    """Art.40: the receiver answers in writing whether it adopted the proposal."""
    letter = issue(cast, handling_case, kind=LetterKind.IMPROVE)
    url = reverse("supervision:letter_answer", args=[letter.pk])
    response = as_user(cast.handler).post(url, {"answer": "已整改", "adoption": ""})
    assert response.status_code == 400 and "请说明是否采纳建议。" in response.content.decode()
    letter.refresh_from_db()
    assert letter.status == LetterStatus.OPEN
    as_user(cast.handler).post(url, {"answer": "已整改", "adoption": "partly"})
    letter.refresh_from_db()
    assert (letter.status, letter.adoption) == (LetterStatus.ANSWERED, "partly")


def test_overdue_letters_are_highlighted(cast, handling_case, as_user, travel):
    letter = issue(cast, handling_case)
    assert not letter.is_overdue
    travel(dt.date(2026, 6, 17))
    letter.refresh_from_db()
    assert letter.is_overdue
    page = as_user(cast.supervisor).get(reverse("supervision:letters") + "?tab=overdue")
    assert list(page.context["letters"]) == [letter] and "sv-overdue-row" in page.content.decode()
    inbox = as_user(cast.handler).get(reverse("inbox")).content.decode()
    assert "sv-overdue-row" in inbox
    desk = as_user(cast.supervisor).get(reverse("supervision:desk"))
    assert desk.context["letters_overdue"] == 1
    # Answered late: no longer overdue, and the lateness is audited.
    sv.answer_letter(cast.handler, letter, answer="已办理")
    letter.refresh_from_db()
    assert not letter.is_overdue
    assert AuditEntry.objects.get(action="supervision.answer").data["late"] is True


# --------------------------------------------------------------------------- documents


def letter_of(cast, make_case, kind):
    case = make_case("handling")
    organ = sv.default_addressee(case, kind, cast.bureau)
    return issue(cast, case, kind=kind, organ=organ, reason="推诿拖延,超期未办", requirement="请于十日内办结")


EXPECTED = {
    LetterKind.SUPERVISE: ["进行督办", "第十四条、第三十九条"],
    LetterKind.REMIND: ["工作提醒", "第十四条"],
    LetterKind.RISK: ["提示风险", "化解稳控"],
    LetterKind.IMPROVE: ["改进工作的建议", "第四十条", "是否采纳"],
    LetterKind.POLICY: ["完善政策的建议", "第四十条", "是否采纳"],
    LetterKind.ACCOUNTABILITY: ["追究责任的建议", "第四十条", "是否采纳"],
}


@pytest.mark.parametrize("kind", LetterKind.values)
def test_every_letter_kind_renders_as_docx_and_pdf(cast, make_case, kind):
    letter = letter_of(cast, make_case, kind)
    doc = letter.document
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(render_docx(doc))).paragraphs)
    assert doc.number in text and doc.title in text and f"{letter.organ.name}:" in text
    assert letter.case.number in text and "推诿拖延,超期未办" in text and "请于十日内办结" in text
    assert "2026年6月16日前" in text  # the answer date
    for phrase in EXPECTED[LetterKind(kind)]:
        assert phrase in text, phrase
    pdf = render_pdf(doc)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_letter_download_for_the_receiving_organ(cast, handling_case, as_user):
    letter = issue(cast, handling_case, kind=LetterKind.RISK)
    for fmt, magic in (("docx", b"PK"), ("pdf", b"%PDF")):
        response = as_user(cast.handler).get(reverse("supervision:letter_download", args=[letter.pk, fmt]))
        assert response.status_code == 200 and b"".join(response.streaming_content).startswith(magic)


def test_listed_case_letters_say_so(cast, handling_case):
    sv.list_case(cast.supervisor, handling_case, reason="群众反映强烈")
    letter = issue(cast, handling_case)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(render_docx(letter.document))).paragraphs)
    assert "挂牌督办事项" in text
