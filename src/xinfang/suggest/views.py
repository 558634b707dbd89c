"""Pages of the suggestion app: the registration panel (htmx), the case panel, acceptance rates.

Views are thin: cases come through `xinfang.cases.access`; suggestions through `service`."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from xinfang.cases.access import cases_visible_to, get_case_for_user, may_register
from xinfang.cases.models import Category
from xinfang.orgs.models import Region, Role

from . import service
from .models import ModelVersion, Rule, Suggestion
from .training import retrain_after

MAX_DRAFT = 20000


def may_see_stats(user) -> bool:
    """Analysts and administrators (and supervisors/leaders, who oversee the same cases)."""
    return bool(user.is_superuser or (user.organ_id and user.has_role(Role.ANALYST, Role.ADMIN, Role.SUPERVISOR, Role.LEADER)))


@login_required
@require_POST
def draft(request):
    """The registration panel: suggestions for the draft being typed (title, content, category, region)."""
    if not may_register(request.user):
        raise Http404
    title = (request.POST.get("title") or "")[:200]
    content = (request.POST.get("content") or "")[:MAX_DRAFT]
    category = request.POST.get("category") or ""
    category = category if category in Category.values else None
    region = None
    if (request.POST.get("region") or "").isdigit():
        region = Region.objects.filter(pk=int(request.POST["region"])).first()
    result = None
    if len(title.strip()) + len(content.strip()) >= 4:
        result = service.suggest_for_text(title=title, content=content, category=category, region=region)
    return render(request, "suggest/_draft.html", {"result": result})


@login_required
@require_GET
def case_panel(request, pk: int):
    """The case page's panel: the stored suggestion (organ and route first) and whether it was taken."""
    case = get_case_for_user(request.user, pk)
    suggestion = (Suggestion.objects.filter(case=case).select_related("topic", "organ", "rule", "model_version", "chosen_organ")
                  .first())
    return render(request, "suggest/_case_result.html", {"case": case, "s": suggestion,
                                                             "may_see_stats": may_see_stats(request.user)})


@login_required
@require_GET
def index(request):
    """Acceptance rates per field and source, over the cases the user may see; model versions; rules."""
    user = request.user
    if not may_see_stats(user):
        raise Http404
    case_ids = None if user.is_superuser else cases_visible_to(user).values("pk")
    rows = service.acceptance_stats(case_ids)
    return render(request, "suggest/index.html", {
        "rows": rows,
        "totals": [r for r in rows if r["source"] == "all"],
        "versions": ModelVersion.objects.defer("blob").order_by("-version")[:10],
        "current": service.current_version(),
        "rule_count": Rule.objects.filter(is_active=True).count(),
        "retrain_after": retrain_after(),
    })
