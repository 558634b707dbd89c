"""Intake pages: the workbench home, registration (登记, optionally 登记并转送) and the case list.

Views are thin: visibility and permission come from `xinfang.cases.access`, every write is a
service function of `xinfang.cases.workflow`, and input is checked by the forms in `forms.py`.
"""
from __future__ import annotations

import datetime as dt
from functools import cached_property

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count, Max
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases import workflow
from xinfang.cases.access import OVERSIGHT_ROLES, WorkflowError, cases_visible_to, holds_few_cases, may_register
from xinfang.cases.models import OPEN_STATES, Attachment, RouteKind
from xinfang.deadlines.models import Rule
from xinfang.handling.views import INBOX_STATES, inbox_tabs

from .forms import CaseFilterForm, PetitionerFormSet, RegistrationForm

LIST_PAGE_SIZE = 50
COUNT_CAP = 10000
URGENT_COUNT = 10
# The inbox tabs counted on the home page (已答复 is a record, not a task: it stays in the inbox).
HOME_TABS = ("registered", "pending", "returned", "handling", "near", "overdue", "review")


class CappedPaginator(Paginator):
    """A paginator that counts at most `cap` rows (COUNT over a LIMITed subquery), so paging a
    million cases never counts them all. Beyond the cap it reports `capped` = True and offers the
    first cap/per_page pages; the user narrows the filters to reach the rest."""

    def __init__(self, object_list, per_page, cap: int = COUNT_CAP, *, count_list=None, short_first_page=True,
                 **kwargs):
        """`count_list`, when given, is the same rows phrased for counting (see
        access.cases_visible_to's from_links). `short_first_page=False` counts before reading the
        first page (see `page`), for when counting is the cheaper of the two."""
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.count_list = count_list
        self.short_first_page = short_first_page

    @cached_property
    def _capped_count(self) -> int:
        # Counting needs neither the order nor the joined rows: kept, they made the database walk
        # the whole list in received order (a random read per case) just to count it.
        rows = self.object_list if self.count_list is None else self.count_list
        return rows.order_by().values("pk")[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._capped_count, self.cap)

    @property
    def capped(self) -> bool:
        return self._capped_count > self.cap

    def get_page(self, number):
        self._count_short_first_page(number)
        return super().get_page(number)

    def page(self, number):
        """The page's rows, found in two steps: the ids of the page (the filters and the order
        only, which PostgreSQL reads from a covering index without touching a case row, however
        many rows the offset skips), then those rows with their joins. A first page that comes
        back short is the whole list, so it is counted without a second walk (a rare word or an
        empty result would otherwise be searched twice)."""
        if not hasattr(self.object_list, "values_list"):
            return super().page(number)
        self._count_short_first_page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        first = getattr(self, "_first_ids", None)
        ids = first[:top] if first is not None and number == 1 else self._ids(bottom, top)
        rows = {row.pk: row for row in self.object_list.filter(pk__in=ids).order_by()} if ids else {}
        # A row changed between the two steps so as to leave the list is left out of the page.
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)

    def _count_short_first_page(self, number) -> None:
        """Before anything counts: for the first page (or what get_page turns into it), read its
        ids and one more; fewer than that is the whole list and its count."""
        if (not self.short_first_page or "_capped_count" in self.__dict__
                or getattr(self, "_first_ids", None) is not None or not hasattr(self.object_list, "values_list")):
            return  # counted, or already read (get_page(None) reads them, then calls page(1))
        try:
            first = int(number) == 1
        except (TypeError, ValueError):
            first = True  # get_page shows the first page for anything not a number
        if first:
            self._first_ids = self._ids(0, self.per_page + self.orphans + 1)
            if len(self._first_ids) <= self.per_page + self.orphans:
                self.__dict__["_capped_count"] = min(len(self._first_ids), self.cap + 1)

    def _ids(self, bottom: int, top: int) -> list[int]:
        return list(self.object_list.prefetch_related(None).values_list("pk", flat=True)[bottom:top])


# --------------------------------------------------------------------------- home


@login_required
def home(request):
    """The workbench: counts of the cases at the user's organ per inbox tab, and the most urgent
    open ones. Overseeing roles also see 临期/超期 counts over everything they may see."""
    user = request.user
    today = timezone.localdate()
    tiles, urgent, oversight = [], [], []
    if user.organ_id is not None:
        tabs = [(code, label, q) for code, label, q in inbox_tabs(today) if code in HOME_TABS]
        at_organ = cases_visible_to(user).filter(current_organ_id=user.organ_id, state__in=INBOX_STATES)
        counts = at_organ.aggregate(**{code: Count("pk", filter=q) for code, _label, q in tabs})
        tiles = [{"code": code, "label": label, "count": counts[code] or 0} for code, label, _q in tabs]
        urgent = list(at_organ.filter(state__in=OPEN_STATES, due_on__isnull=False)
                      .select_related("current_organ").prefetch_related("petitioners")
                      .order_by("due_on", "pk")[:URGENT_COUNT])
        if user.has_role(*OVERSIGHT_ROLES):
            # Two counts, each bounded by a range of due dates, so the database walks the due_on
            # index over the graded cases instead of checking visibility on every open case (a
            # province has millions). A case is 临期 only within its rule's warning days, so no
            # near case is due later than the longest warning period.
            graded = {code: q for code, _label, q in inbox_tabs(today) if code in ("near", "overdue")}
            horizon = today + dt.timedelta(days=Rule.objects.aggregate(m=Max("warn_days"))["m"] or 0)
            visible = cases_visible_to(user)
            oversight = [
                {"code": "near", "label": _("辖区临期"), "count": visible.filter(graded["near"], due_on__lte=horizon).count()},
                {"code": "overdue", "label": _("辖区超期"), "count": visible.filter(graded["overdue"]).count()},
            ]
    return render(request, "intake/home.html", {
        "tiles": tiles, "urgent": urgent, "oversight": oversight, "today": today,
        "can_register": may_register(user),
    })


# --------------------------------------------------------------------------- registration

# Where a route refusal's field (WorkflowError.field) shows on the registration form.
ROUTE_FIELDS = {"kind": "route_kind", "organ": "route_organ", "assigned_due": "assigned_due", "note": "route_note"}
# Where a registration refusal's field (RegistrationError.errors keys) shows, when named differently.
REGISTER_FIELDS = {"related_case": "related_number"}


@login_required
def case_register(request):
    """Register a petition on one screen; with the "登记并转送" button also route it, in the same
    transaction, so a refused route saves nothing (Art.17, 19, 21, 22)."""
    user = request.user
    if not may_register(user):
        raise Http404(_("页面不存在"))
    if request.method != "POST":
        return _render_register(request, RegistrationForm(user=user), PetitionerFormSet(prefix="p"))

    route = request.POST.get("submit") == "route"
    form = RegistrationForm(request.POST, request.FILES, user=user, route=route)
    formset = PetitionerFormSet(request.POST, prefix="p")
    petitioner_errors: list[str] = []
    if form.is_valid() and formset.is_valid():
        petitioners = formset.petitioners()
        form.check_head_count(petitioners)
    if not (form.is_valid() and formset.is_valid()):
        return _render_register(request, form, formset, status=400)

    files = [(f.name, f) for f in form.cleaned_data["attachments"]]
    stored: list[str] = []
    stage = "register"
    try:
        with transaction.atomic():
            case = workflow.register_case(user, form.case_data(), petitioners, files)
            stored = list(case.attachments.values_list("file", flat=True))
            if route:
                stage = "route"
                case = workflow.route_case(user, case, **form.route_args())
    except workflow.RegistrationError as exc:
        _discard_files(stored)
        for field, msgs in exc.errors.items():
            field = REGISTER_FIELDS.get(field, field)
            for msg in msgs:
                if field == "petitioners":
                    petitioner_errors.append(msg)
                else:
                    form.add_error(field if field in form.fields else None, msg)
        return _render_register(request, form, formset, petitioner_errors, status=400)
    except WorkflowError as exc:
        # Nothing was committed; files written to storage before the refusal are removed too.
        _discard_files(stored)
        field = ROUTE_FIELDS.get(exc.field) if stage == "route" else REGISTER_FIELDS.get(exc.field, exc.field)
        if stage == "route":
            msg = _("登记未保存:转送被拒绝。%(reason)s") % {"reason": exc.message}
        else:
            msg = exc.message
        form.add_error(field if field in form.fields else None, msg)
        return _render_register(request, form, formset, petitioner_errors, status=400)

    if route:
        messages.success(request, _("已登记信访事项 %(number)s,并%(kind)s至%(organ)s。") % {
            "number": case.number, "kind": RouteKind(case.route_kind).label, "organ": case.current_organ.name})
    else:
        messages.success(request, _("已登记信访事项 %(number)s。") % {"number": case.number})
    return redirect("case_detail", pk=case.pk)


def _discard_files(names: list[str]) -> None:
    storage = Attachment._meta.get_field("file").storage
    for name in names:
        storage.delete(name)


def _render_register(request, form, formset, petitioner_errors=(), *, status=200):
    had_files = request.method == "POST" and bool(request.FILES.getlist("attachments"))
    return render(request, "intake/register.html", {
        "form": form, "formset": formset, "petitioner_errors": list(petitioner_errors),
        "files_dropped": had_files and status != 200,
        # A registered case waits for routing only at a petition bureau (workflow.register_case);
        # elsewhere it goes straight to the acceptance decision, so routing is not offered.
        "can_route": bool(request.user.organ and request.user.organ.is_bureau),
    }, status=status)


# --------------------------------------------------------------------------- case list


# From this page on, the case list of an organ holding few cases is read from its links (measured
# at a million cases: walking newest first cost 0.1 s at page 10 and 1.5 s at page 200, the links
# a flat 0.15–0.4 s).
DEEP_PAGE = 15


def _page_number(request) -> int:
    try:
        return int(request.GET.get("page") or 1)
    except ValueError:
        return 1  # Paginator.get_page shows the first page for anything not a number


@login_required
def case_list(request):
    """Every case the user may see, filtered by GET parameters (shareable links), newest first."""
    form = CaseFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "intake/case_list.html", {"form": form, "page_obj": None, "cases": []}, status=400)
    # The newest pages are found fastest by walking the cases newest first. For an organ holding a
    # small share of the cases (access.holds_few_cases), the capped count and the deeper pages
    # are found faster from the organ's links: walking, they cost a row per case passed over.
    few = holds_few_cases(request.user)
    count_list = form.filter(cases_visible_to(request.user, from_links=True)) if few else None
    deep = few and _page_number(request) > DEEP_PAGE
    cases = (form.filter(cases_visible_to(request.user, from_links=deep))
             .select_related("current_organ").prefetch_related("petitioners")
             .order_by("-received_at", "-id"))
    # SQLite starts the count of an organ holding few cases from its links, which beats walking a
    # short list's first page (a 2-character query's window: 135 ms against 390 ms at a million
    # cases); PostgreSQL walks either way (the IN list inside the visibility OR is a hashed
    # subplan), so there the first page, when short, is its own count.
    short_first = not (few and connection.vendor == "sqlite")
    page = CappedPaginator(cases, LIST_PAGE_SIZE, cap=COUNT_CAP, count_list=count_list,
                           short_first_page=short_first).get_page(request.GET.get("page"))
    filtered = any(v not in (None, "") for v in form.cleaned_data.values())
    return render(request, "intake/case_list.html", {
        "form": form, "page_obj": page, "cases": page.object_list, "filtered": filtered,
    })

