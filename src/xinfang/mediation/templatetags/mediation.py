"""The mediation panel of the case page."""
from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def mediation_case_panel(context, case):
    from ..models import Mediation
    from ..services import may_refer

    request = context.get("request")
    user = getattr(request, "user", None)
    mediations = list(Mediation.objects.filter(case=case).select_related("organ", "mediator", "document"))
    return render_to_string("mediation/_case_panel.html", {
        "case": case, "mediations": mediations,
        "can_refer": case.category == "claim" and case.state in ("registered", "pending", "handling")
                     and user is not None and may_refer(user, case) and not any(m.is_open for m in mediations),
    }, request=request)
