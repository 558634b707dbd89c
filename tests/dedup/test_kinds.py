"""Kinds of duplicates and the refusals (Art.19 ¶3, Art.36 ¶3)."""
from xinfang.dedup import service
from xinfang.dedup.models import Kind, Link, Signature

from .conftest import DIFFERENT, EDITED, OTHER_ID, PERSON


def test_every_new_case_is_indexed(register):
    case = register()
    assert Signature.objects.filter(case=case).exists()


def test_same_person_same_matter_is_a_repeat_with_a_chain_count(register, cast):
    first = register()
    second = register(content=EDITED)
    third = register(content=EDITED + "已经第三次反映。")
    link2, link3 = Link.objects.get(case=second), Link.objects.filter(case=third).order_by("-score").first()
    assert link2.kind == Kind.REPEAT and link2.earlier_id == first.pk and link2.same_person
    assert link3.kind == Kind.REPEAT and link3.root_id == first.pk
    assert service.repeat_counts([first.pk]) == {first.pk: 3}


def test_same_person_different_matter_is_not_a_repeat(register):
    register()
    other = register(title="小区路灯损坏", content=DIFFERENT)
    assert not Link.objects.filter(case=other).exists()


def test_same_text_from_another_person_is_joint(register):
    first = register()
    joint = register(person=dict(name="王邻居", id_number=OTHER_ID, phone="13900139000", address="东湖区幸福里5栋"))
    link = Link.objects.get(case=joint)
    assert link.kind == Kind.JOINT and not link.same_person and link.earlier_id == first.pk


def test_same_letter_to_another_organ_is_multi(register, cast):
    first = register()
    copy = register(user=cast.district_registrar)
    link = Link.objects.get(case=copy)
    assert link.kind == Kind.MULTI and link.earlier_id == first.pk


def test_draft_while_handled_is_refused_under_art19(make_case, cast):
    handled = make_case("handling")
    cands = service.screen_draft(cast.registrar, title="电梯故障", content=EDITED, petitioners=[PERSON])
    assert cands[0].case.pk == handled.pk and cands[0].kind == Kind.REPEAT
    assert "第19条" in cands[0].refusal and handled.number in cands[0].refusal


def test_draft_after_re_review_is_refused_under_art36(make_case, cast):
    settled = make_case("closed")
    cands = service.screen_draft(cast.registrar, title="电梯故障", content=EDITED, petitioners=[PERSON])
    assert "第36条" in cands[0].refusal and settled.number in cands[0].refusal


def test_draft_of_another_person_is_not_refused(make_case, cast):
    make_case("handling")
    cands = service.screen_draft(cast.registrar, title="电梯故障", content=EDITED, petitioners=[{"name": "王邻居"}])
    assert cands and cands[0].kind == Kind.JOINT and not cands[0].refusal


def test_draft_registered_but_not_yet_accepted_is_not_refused(make_case, cast):
    make_case("registered")
    cands = service.screen_draft(cast.registrar, title="电梯故障", content=EDITED, petitioners=[PERSON])
    assert cands and not cands[0].refusal
