"""Template helpers of coordination: the case page panel (track, conduct records, legal advice)."""
from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def coordination_case_panel(context, case):
    """The panel for a case the page has already shown to the user (visibility was checked by
    the case page through the access layer): its track, conduct records and legal advice."""
    from xinfang.cases.workflow import SIMPLE_RULE

    from .. import services as sv

    request = context.get("request")
    user = request.user
    simple = case.deadlines.filter(rule_id=SIMPLE_RULE).select_related("rule").order_by("-pk").first()
    ctx = {
        "case": case,
        "simple": simple,
        "accepted": case.handling_organ_id is not None,
        "conduct": list(case.conduct_records.select_related("recorded_by", "organ")),
        "advice": list(case.legal_advice.select_related("recorded_by")),
        "may_record": sv.is_bureau_staff(user),
        "may_advise": sv.is_bureau_staff(user) or bool(getattr(user, "organ_id", None) and user.has_role("mediator")),
    }
    return render_to_string("coordination/_case_panel.html", ctx, request=request)
