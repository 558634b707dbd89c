"""Template helpers of duplicate detection: the case panel and the 重复 badge of case lists."""
from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def dedup_case_panel(context, case):
    from ..views import case_panel_context

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return render_to_string("dedup/_case_links.html", case_panel_context(user, case), request=request)


@register.simple_tag
def dedup_duplicate_ids(cases):
    """The ids among `cases` that repeat an earlier case, in one query. Iterating a queryset here
    fills its cache, so the table's own loop does not query again."""
    from ..service import duplicate_ids

    ids = [c.pk for c in cases]
    return duplicate_ids(ids) if ids else set()
