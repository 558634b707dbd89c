"""Template helpers of supervision: the 挂牌督办 mark of case lists, the case page panel, the
inbox panel and the labels of supervision entries on the case timeline."""
from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag
def supervision_listed_ids(cases):
    """The ids among `cases` that are 挂牌督办 now, in one query. Iterating a queryset here fills
    its cache, so the table's own loop does not query again."""
    from ..services import listed_ids

    return listed_ids(c.pk for c in cases)


@register.simple_tag
def supervision_is_listed(case) -> bool:
    from ..services import listed_ids

    return case.pk in listed_ids([case.pk])


@register.filter
def supervision_event_label(event):
    """The timeline label of an event: a supervision act's own label, else the event's."""
    from ..services import event_label

    return event_label(event.action) or event.label


@register.simple_tag(takes_context=True)
def supervision_case_panel(context, case):
    from ..panels import case_panel_context

    request = context.get("request")
    return render_to_string("supervision/_case_panel.html", case_panel_context(request, case), request=request)


@register.simple_tag(takes_context=True)
def supervision_inbox_panel(context):
    from ..panels import inbox_panel_context

    request = context.get("request")
    return render_to_string("supervision/_inbox_panel.html", inbox_panel_context(request), request=request)


@register.simple_tag
def supervision_metric(row, metric_def):
    """The row's value of one ranking metric, with its percentage rounded for display."""
    from ..ranking import _rate

    metric = row.metrics.get(metric_def.code)
    if metric is None or not getattr(metric, "denominator", 0):
        return None
    return {"numerator": metric.numerator, "denominator": metric.denominator, "percent": round(100 * _rate(metric), 2)}
