"""Simulated case histories: the rows the workflow services would write, computed in memory.

`CaseSim` mirrors, method for method, the service functions of `xinfang.cases.workflow`
(register_case, route_case, accept_case, …): the same state changes, the same Event actions and
data, the same Deadline rows computed with the same `Calendar`, the same running duty (sync_due)
and the same Document records. Each method takes the same keyword arguments as its service and
records them in `steps`, so a test can replay a simulated case through the real services and
compare the rows (tests/test_demo.py). A limit that ends in a year the holiday calendar does not
cover is written as the services write it: pending (no due date, `pending_year` set), and the case
goes on. Dates the planner needs to place later steps come from `Context.plan_due`, which counts
an uncovered year as plain weekdays — only to place a staff action in time, never as a deadline.

`plan_case` decides one case's fate (what happens, when and by whom) and drives a CaseSim through
it, never past the present moment.
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from xinfang.cases.models import (
    OPEN_STATES, Category, Channel, Closure, HandlingRoute, Outcome, RouteKind, Satisfaction, State,
)
from xinfang.cases.workflow import MAX_CONTENT, MAX_REPRESENTATIVES, TRANSITIONS, PetitionerData, review_allowed
from xinfang.cases.workflow import _jsonable  # the services' own encoding of Event.data
from xinfang.deadlines.engine import Calendar, CalendarNotCovered, deadline_due
from xinfang.deadlines.models import Deadline
from xinfang.documents.models import DocKind
from xinfang.orgs.models import LEGAL_KINDS, Level, Organ, OrganKind, Role

from . import texts
from .texts import Matter
from .world import DISTRICTS, STREETS, World

S = State
_OPEN = set(OPEN_STATES)
_UNSET = object()


class SimError(Exception):
    """The generator planned a step the services would refuse: a bug in the generator."""


class Stop(Exception):
    """The case goes no further (the next step lies in the future, or the case is stalled)."""


# Types of Event.data values that workflow._jsonable leaves as they are (it encodes dates,
# datetimes and organs): text, numbers, flags, None and the text choices the steps record.
_AS_IS = frozenset({str, int, bool, float, type(None), Channel, Category, State, Closure, RouteKind, HandlingRoute,
                    Outcome, Satisfaction})


def _event_data(data: dict) -> dict:
    """Event.data as the services write it (workflow._jsonable). When every value is of a type
    _jsonable would copy unchanged (most steps), `data` itself is kept: it is the step's own
    keyword dict, nobody else's. Anything else goes through _jsonable."""
    for v in data.values():
        if type(v) not in _AS_IS:
            return _jsonable(data)
    return data


# --------------------------------------------------------------------------- rows in memory


@dataclass
class DeadlineRow:
    rule: str
    organ_id: int | None
    started_on: dt.date
    days: int
    due_on: dt.date | None  # None while pending: it ends in a year the calendar does not cover
    fixed_due: dt.date | None = None
    extra_days: int = 0
    met_at: dt.datetime | None = None
    is_open: bool = True
    pending_year: int | None = None

    def has_passed(self, day: dt.date) -> bool:
        """Deadline.has_passed: a pending limit has not run out."""
        return self.due_on is not None and day > self.due_on


@dataclass
class EventRow:
    action: str
    at: dt.datetime
    actor_id: int | None
    organ_id: int | None
    target_organ_id: int | None
    from_state: str
    to_state: str
    note: str
    data: dict


@dataclass
class DocumentRow:
    kind: str
    organ: Organ
    year: int
    issued_at: dt.datetime
    issued_by_id: int | None
    addressee: str
    for_petitioner: bool
    fields: dict
    event: EventRow


@dataclass
class Step:
    """One service call: `name` is the service function, `kwargs` its keyword arguments."""

    name: str
    at: dt.datetime
    actor: object  # User or None (the scheduled sweep)
    kwargs: dict


class CaseSim:
    """One case and everything the services would have written for it."""

    def __init__(self, ctx: "Context", index: int):
        self.ctx, self.index = ctx, index
        self.f: dict = {}  # Case field values (organs as Organ objects, FKs by object)
        self.petitioners: list[PetitionerData] = []
        self.links: dict[int, dt.datetime] = {}  # organ id → since (CaseOrgan)
        self.deadlines: list[DeadlineRow] = []
        self.events: list[EventRow] = []
        self.documents: list[DocumentRow] = []
        self.steps: list[Step] = []
        self.related: PoolEntry | None = None  # the earlier case this petition repeats
        self.now: dt.datetime | None = None
        self.actor = None
        self.from_state = ""
        self.pk: int | None = None  # set by the writer
        self._today_of: object = _UNSET  # the `now` that `_today` is the local date of
        self._today: dt.date | None = None

    # ---- the machinery of workflow._Step

    @property
    def state(self) -> str:
        return self.f["state"]

    def _begin(self, name: str, at: dt.datetime, actor, kwargs: dict) -> None:
        if at > self.ctx.now:
            raise SimError(f"{name} planned in the future")
        steps = self.steps
        if steps and at <= steps[-1].at:
            raise SimError(f"{name} planned before the previous step")
        if name != "register_case":
            self._check(_SERVICE_TRANSITION[name], actor)
        self.now, self.actor = at, actor
        self.from_state = self.f.get("state", "")
        self._pending_step = Step(name, at, actor, kwargs)

    @property
    def today(self) -> dt.date:
        """The local date of `now`. A step reads it several times (each limit it opens starts
        today): it is converted once per moment, not at every read."""
        now = self.now
        if now is not self._today_of:
            self._today, self._today_of = self.ctx.date_of(now), now
        return self._today

    def _check(self, name: str, actor) -> None:
        """What access.check_transition would say (for the sweep, only the state)."""
        t = TRANSITIONS[name]
        if self.state not in t.sources:
            raise SimError(f"{name} from {self.state}")
        if actor is None:
            return
        if not actor.has_role(*t.roles):
            raise SimError(f"{name} by {actor.username} without role")
        f = self.f
        if t.where == "holder":
            organs = {f["current_organ"].pk}
        elif t.where == "superior":
            decided = f["current_organ"] if self.state != S.REPLIED else (f["handling_organ"] or f["current_organ"])
            organs = {decided.parent_id}
        else:
            organs = {o.pk for o in (f["bureau"], f["handling_organ"], f["current_organ"]) if o is not None}
        if actor.organ_id not in organs:
            raise SimError(f"{name} by {actor.username} of the wrong organ")

    def _due(self, rule_code: str, start: dt.date, days: int | None = None) -> tuple[dt.date | None, int | None]:
        """(due_on, pending_year) as engine.place_due sets them: a date, or None and the missing year."""
        rule = self.ctx.rules[rule_code]
        try:
            return self.ctx.calendar.due(start, rule.days if days is None else days, rule.unit), None
        except CalendarNotCovered as exc:
            return None, exc.year

    def _open(self, rule_code: str, start: dt.date, organ: Organ | None, due: tuple, *,
              fixed_due: dt.date | None = None) -> DeadlineRow:
        row = DeadlineRow(rule_code, organ.pk if organ else None, start, self.ctx.rules[rule_code].days, due[0],
                          fixed_due, pending_year=due[1])
        self.deadlines.append(row)
        return row

    def _close(self, *codes: str) -> None:
        for d in self.deadlines:
            if d.is_open and (not codes or d.rule in codes):
                d.is_open, d.met_at = False, self.now

    def _open_window(self, code: str) -> DeadlineRow | None:
        """The first open `code` row in Deadline's default ordering (started_on, then creation)."""
        found = None
        for d in self.deadlines:  # creation order: a later row with the same start never wins
            if d.is_open and d.rule == code and (found is None or d.started_on < found.started_on):
                found = d
        return found

    def _ordered(self) -> list[DeadlineRow]:
        # Deadline's default ordering: started_on, then pk (creation order).
        return sorted(self.deadlines, key=lambda d: d.started_on)

    def _move_to(self, organ: Organ) -> None:
        self.f["current_organ"] = organ
        self.links.setdefault(organ.pk, self.now)

    def _sync_due(self) -> None:
        """workflow.sync_due: the earliest due date of the open duties (of equal dates, the first
        in Deadline's ordering: started_on, then creation), else the earliest pending year."""
        f = self.f
        f["due_pending_year"] = None
        if f["state"] not in _OPEN:
            f["due_on"] = f["due_warn_on"] = None
            return
        rules = self.ctx.rules
        first = None
        pending = []
        # One pass in creation order instead of sorting: on equal due dates the earlier start
        # wins, on equal starts the earlier row (what min() over the sorted rows picked).
        for d in self.deadlines:
            if d.is_open and rules[d.rule].is_duty:
                due = d.due_on
                if due is None:
                    pending.append(d.pending_year)
                elif first is None or due < first.due_on or (due == first.due_on and d.started_on < first.started_on):
                    first = d
        if first is None:  # no duty runs, or the running limit is pending
            f["due_on"] = f["due_warn_on"] = None
            if pending:
                f["due_pending_year"] = min(pending)
            return
        due = first.due_on
        warn = rules[first.rule].warn_days
        f["due_on"] = due
        f["due_warn_on"] = due - dt.timedelta(days=warn - 1) if warn else None

    def _finish(self, to_state: str, *, note: str = "", target: Organ | None = None, **data) -> EventRow:
        f = self.f
        f["state"] = to_state
        self._sync_due()
        f["version"] = f.get("version", 0) + 1
        actor = self.actor
        step = self._pending_step
        if actor:
            actor_id, organ_id = actor.pk, getattr(actor, "organ_id", None)
        else:
            actor_id = organ_id = None
        event = EventRow(_SERVICE_TRANSITION[step.name], self.now, actor_id, organ_id, target.pk if target else None,
                         self.from_state, to_state, note, _event_data(data))
        self.events.append(event)
        self.steps.append(step)
        return event

    def _issue(self, kind: str, organ: Organ, event: EventRow, *, addressee: str = "", for_petitioner: bool = True,
               **fields) -> None:
        """What documents.numbering.issue_document records (the number is given by the writer)."""
        if for_petitioner and not addressee:
            # letter_recipients: the representatives of a group, else every petitioner.
            people = [p for p in self.petitioners if p.is_representative] or self.petitioners
            addressee = "、".join(p.name.strip() for p in people)
            fields.setdefault("delivery_addresses", [
                f"{p.name.strip()} {p.address.strip()}" if len(people) > 1 else p.address.strip()
                for p in people if p.address.strip()])
        self.documents.append(DocumentRow(kind, organ, self.today.year, self.now, self.actor.pk, addressee,
                                          for_petitioner, fields, event))

    # ---- the services

    def register_case(self, at, actor, data: dict, petitioners: list[PetitionerData]) -> None:
        self._begin("register_case", at, actor, {"data": data, "petitioners": petitioners})
        organ = actor.organ
        received = data["received_at"]
        local = received.astimezone(self.ctx.tz)  # ctx.date_of(received), with its year
        received_on = local.date()
        at_bureau = organ.is_bureau
        rule = "route" if at_bureau else "accept"
        due = self._due(rule, received_on)
        year = local.year
        seq, number = self.ctx.next_number(organ, year)
        f = self.f
        get = data.get
        # One update, in the order the fields were always set (the services' field order).
        f.update({
            "number": number, "bureau": organ, "year": year, "seq": seq, "registered_by": actor,
            "current_organ": organ, "registered_at": at, "head_count": max(get("head_count") or 1, len(petitioners)),
            "state": S.REGISTERED if at_bureau else S.PENDING, "closure": "", "routed_by": None, "returned_from": None,
            "handling_organ": None, "route_kind": "", "handling_route": "", "outcome": "", "review_outcome": "",
            "assigned_due": None, "report_required": False, "extended": False, "replied_at": None, "delivered_on": None,
            "satisfaction_organ": "", "satisfaction_bureau": "", "closed_at": None, "version": 0,
            "channel": get("channel"), "received_at": received, "title": get("title"), "content": get("content"),
            "category": get("category"), "topic": get("topic"), "region": get("region"),
            "accused_organ": get("accused_organ"),
            "skip_level": bool(get("skip_level")), "group_visit": bool(get("group_visit")),
            "major_urgent": bool(get("major_urgent")), "law_related": bool(get("law_related")),
            "same_facts": bool(get("same_facts")),
        })
        self.petitioners = petitioners
        self.links[organ.pk] = at
        self.from_state = ""
        self._open(rule, received_on, organ, due)
        self._finish(f["state"], channel=f["channel"])

    def route_case(self, at, actor, *, kind: str, organ: Organ, note: str = "", assigned_due: dt.date | None = None) -> None:
        self._begin("route_case", at, actor, dict(kind=kind, organ=organ, note=note, assigned_due=assigned_due))
        f = self.f
        today = self.today
        if f["same_facts"] and self.related is not None:
            raise SimError("a repeat on the same facts cannot be routed")
        if kind == RouteKind.ASSIGN and not (assigned_due and assigned_due > today):
            raise SimError("交办 needs a future deadline")
        if kind != RouteKind.ASSIGN:
            assigned_due = None
        if f["category"] == Category.REPORT and f["accused_organ"] is not None and (
                organ.pk in self.ctx.descendants(f["accused_organ"])):
            raise SimError("report routed to the accused organ")
        if f["law_related"] and kind != RouteKind.LEGAL and not organ.is_bureau:
            raise SimError("涉法涉诉 must go to a legal organ")
        if kind == RouteKind.LEGAL and organ.kind not in LEGAL_KINDS:
            raise SimError("诉访分离 to a non-legal organ")
        if kind == RouteKind.DISCIPLINE and organ.kind != OrganKind.DISCIPLINE:
            raise SimError("检举控告 to a non-discipline organ")
        if organ.pk == f["current_organ"].pk:
            raise SimError("routed to itself")
        if f["skip_level"] and f["channel"] == Channel.VISIT and self.ctx.guide_back:
            raise SimError("level-skipping visit routed")
        to_bureau = organ.is_bureau and kind in (RouteKind.FORWARD, RouteKind.ASSIGN) and not assigned_due
        if to_bureau:
            dues = [self._due("route", today)]
        else:
            dues = [self._due("accept", today), self._due("object", today)]
        sender = f["current_organ"]
        self._close("route")
        f.update(route_kind=kind, routed_by=sender, returned_from=None, assigned_due=assigned_due,
                 report_required=kind == RouteKind.ASSIGN)
        self._move_to(organ)
        if to_bureau:
            self._open("route", today, organ, dues[0])
            to_state = S.REGISTERED
        else:
            self._open("accept", today, organ, dues[0])
            self._open("object", today, organ, dues[1])
            to_state = S.PENDING
        event = self._finish(to_state, note=note, target=organ, kind=kind, assigned_due=assigned_due)
        self._issue(DocKind.ASSIGN if kind == RouteKind.ASSIGN else DocKind.FORWARD, sender, event, addressee=organ.name,
                    for_petitioner=False, route=self.ctx.label(RouteKind, kind), note=note,
                    assigned_due=assigned_due.isoformat() if assigned_due else "")

    def inform_case(self, at, actor, *, channel: str, reason: str) -> None:
        self._begin("inform_case", at, actor, dict(channel=channel, reason=reason))
        self._close()
        self.f.update(closure=Closure.INFORMED, closed_at=self.now)
        event = self._finish(S.CLOSED, note=reason, channel=channel)
        self._issue(DocKind.INFORM, self.f["current_organ"], event, channel=channel, reason=reason)

    def not_accept_case(self, at, actor, *, reason: str) -> None:
        self._begin("not_accept_case", at, actor, dict(reason=reason))
        f = self.f
        again = bool(f["same_facts"] and self.related is not None and self.related.closure == Closure.RE_REVIEWED)
        self._close()
        f.update(closure=Closure.NOT_AGAIN if again else Closure.NOT_ACCEPTED, closed_at=self.now)
        event = self._finish(S.CLOSED, note=reason)
        self._issue(DocKind.NOT_AGAIN if again else DocKind.NOT_ACCEPTED, f["current_organ"], event, reason=reason,
                    related=self.related.number if self.related is not None else "")

    def decide_objection(self, at, actor, *, agree: bool, note: str = "") -> None:
        self._begin("decide_objection", at, actor, dict(agree=agree, note=note))
        f = self.f
        if agree:
            due = self._due("route", self.today)
            self._open("route", self.today, f["current_organ"], due)
            to_state, target = S.REGISTERED, f["current_organ"]
        else:
            target = f["returned_from"]
            due = self._due("accept", self.today)
            self._move_to(target)
            self._open("accept", self.today, target, due)
            to_state = S.PENDING
        self._finish(to_state, note=note, target=target, agree=agree)

    def accept_case(self, at, actor, *, route: str, note: str = "") -> None:
        self._begin("accept_case", at, actor, dict(route=route, note=note))
        f = self.f
        organ = f["current_organ"]
        due = fixed = None
        if f["assigned_due"]:
            fixed = max(f["assigned_due"], self.today)
            due = (fixed, None)
        elif route in (HandlingRoute.DUTY, HandlingRoute.OPINION):
            due = self._due("handle", self.today)
        self._close("accept", "object")
        f.update(handling_route=route, handling_organ=organ)
        if fixed:
            self._open("assign", self.today, organ, due, fixed_due=fixed)
        elif due:
            self._open("handle", self.today, organ, due)
        event = self._finish(S.HANDLING, note=note, route=route)
        self._issue(DocKind.ACCEPTANCE, organ, event, route=self.ctx.label(HandlingRoute, route),
                    due=f["due_on"].isoformat() if f["due_on"] else "")

    def object_case(self, at, actor, *, reason: str) -> None:
        self._begin("object_case", at, actor, dict(reason=reason))
        f = self.f
        window = self._open_window("object")
        if window is None or window.has_passed(self.today) or f["routed_by"] is None:
            raise SimError("objection out of time")
        self._close("accept", "object")
        f["returned_from"] = f["current_organ"]
        sender = f["routed_by"]
        self._move_to(sender)
        self._finish(S.RETURNED, note=reason, target=sender)

    def extend_deadline(self, at, actor, *, days: int, reason: str) -> None:
        self._begin("extend_deadline", at, actor, dict(days=days, reason=reason))
        running = next((d for d in self._ordered() if d.is_open and d.rule in ("handle", "assign")), None)
        if running is None or self.f["extended"] or not 1 <= days <= self.ctx.rules["extension"].days:
            raise SimError("extension not allowed")
        if running.due_on is None:
            raise SimError("a pending limit cannot be extended")
        # The new date must be computable (the service refuses otherwise): raises CalendarNotCovered
        # before anything changes, and the planner then leaves the extension out.
        calendar, old_due = self.ctx.calendar, running.due_on
        if running.fixed_due:
            new_fixed = calendar.next_working_day(running.fixed_due + dt.timedelta(days=days))
            new_due = new_fixed
        else:
            new_fixed = None
            new_due = calendar.due(running.started_on, running.days + days, self.ctx.rules[running.rule].unit, running.extra_days)
        running.days += days
        if new_fixed:
            running.fixed_due = new_fixed
        running.due_on = new_due
        self.f["extended"] = True
        event = self._finish(S.HANDLING, note=reason, days=days, old_due=old_due, new_due=new_due)
        self._issue(DocKind.EXTENSION, self.f["current_organ"], event, reason=reason, days=days,
                    old_due=old_due.isoformat(), new_due=new_due.isoformat())

    def _review_allowed(self) -> bool:
        return review_allowed(_Probe(self.f["category"], self.f["handling_route"]))

    def reply_case(self, at, actor, *, outcome: str, opinion: str, facts: str = "", basis: str = "",
                   delivered_on: dt.date | None = None, report: str = "") -> None:
        self._begin("reply_case", at, actor, dict(outcome=outcome, opinion=opinion, facts=facts, basis=basis,
                                                  delivered_on=delivered_on, report=report))
        f = self.f
        delivered_on = delivered_on or self.today
        # The acceptance date comes from the timeline (routes ①–④ run no handling limit).
        accepted = None
        for e in reversed(self.events):
            if e.action == "accept":
                accepted = e.at
                break
        if delivered_on > self.today or (accepted is not None and delivered_on < self.ctx.date_of(accepted)):
            raise SimError("delivery date out of range")
        if f["report_required"] and not report:
            raise SimError("交办 needs its 办结报告")
        review = self._review_allowed()
        due_eval = self._due("evaluate", delivered_on)
        due_review = self._due("review_request", delivered_on) if review else None
        self._close("handle", "assign")
        f.update(outcome=outcome, replied_at=self.now, delivered_on=delivered_on)
        self._open("evaluate", delivered_on, None, due_eval)
        if review:
            self._open("review_request", delivered_on, None, due_review)
        event = self._finish(S.REPLIED, note=opinion, outcome=outcome, delivered_on=delivered_on, report=report)
        self._issue(DocKind.OPINION if review else DocKind.REPLY, f["current_organ"], event,
                    outcome=self.ctx.label(Outcome, outcome), opinion=opinion, facts=facts, basis=basis,
                    request=f["content"][:2000])

    def evaluate_case(self, at, actor, *, organ_satisfaction: str, bureau_satisfaction: str = "") -> None:
        self._begin("evaluate_case", at, actor, dict(organ_satisfaction=organ_satisfaction,
                                                     bureau_satisfaction=bureau_satisfaction))
        windows = [d for d in self.deadlines if d.rule == "evaluate"]
        if self.f["satisfaction_organ"] or not windows or windows[-1].has_passed(self.today):
            raise SimError("evaluation out of time")
        self._close("evaluate")
        self.f.update(satisfaction_organ=organ_satisfaction, satisfaction_bureau=bureau_satisfaction)
        self._finish(self.state, organ_satisfaction=organ_satisfaction, bureau_satisfaction=bureau_satisfaction)

    def _request(self, name, at, actor, window_code, duty_code, to_state, reason, requested_on):
        self._begin(name, at, actor, dict(reason=reason, requested_on=requested_on))
        requested_on = requested_on or self.today
        window = self._open_window(window_code)
        if (window is None or window.has_passed(requested_on) or requested_on < window.started_on
                or requested_on > self.today):
            raise SimError(f"{name} out of time")
        superior = actor.organ
        due = self._due(duty_code, requested_on)
        self._close(window_code)
        self._move_to(superior)
        self._open(duty_code, requested_on, superior, due)
        self._finish(to_state, note=reason, target=superior, requested_on=requested_on)

    def request_review(self, at, actor, *, reason: str, requested_on: dt.date | None = None) -> None:
        self._request("request_review", at, actor, "review_request", "review", S.REVIEW, reason, requested_on)

    def request_re_review(self, at, actor, *, reason: str, requested_on: dt.date | None = None) -> None:
        self._request("request_re_review", at, actor, "re_review_request", "re_review", S.RE_REVIEW, reason, requested_on)

    def _issue_review(self, name, at, actor, outcome, opinion, to_state, kind):
        self._begin(name, at, actor, dict(outcome=outcome, opinion=opinion))
        f = self.f
        due = self._due("re_review_request", self.today) if to_state == S.REVIEWED else (None, None)
        self._close("review", "re_review")
        f.update(review_outcome=outcome, delivered_on=self.today)
        if to_state == S.REVIEWED:
            self._open("re_review_request", self.today, None, due)
        else:
            f.update(closure=Closure.RE_REVIEWED, closed_at=self.now)
        event = self._finish(to_state, note=opinion, outcome=outcome)
        self._issue(kind, f["current_organ"], event, outcome=self.ctx.label(Outcome, outcome), opinion=opinion,
                    request=f["content"][:2000])

    def issue_review_opinion(self, at, actor, *, outcome: str, opinion: str) -> None:
        self._issue_review("issue_review_opinion", at, actor, outcome, opinion, S.REVIEWED, DocKind.REVIEW)

    def issue_re_review_opinion(self, at, actor, *, outcome: str, opinion: str) -> None:
        self._issue_review("issue_re_review_opinion", at, actor, outcome, opinion, S.CLOSED, DocKind.RE_REVIEW)

    def record_hearing(self, at, actor, *, days: int, note: str) -> None:
        self._begin("record_hearing", at, actor, dict(days=days, note=note))
        duty = self._open_window("re_review")
        try:
            placed = self.ctx.calendar.due(duty.started_on, duty.days, self.ctx.rules["re_review"].unit,
                                           duty.extra_days + days), None
        except CalendarNotCovered as exc:
            placed = None, exc.year
        duty.extra_days += days
        duty.due_on, duty.pending_year = placed
        self._finish(self.state, note=note, days=days, new_due=duty.due_on or _pending_label(duty.pending_year))

    def close_case(self, at, actor) -> None:
        self._begin("close_case", at, actor, {})
        code = "review_request" if self.state == S.REPLIED else "re_review_request"
        window = self._open_window(code)
        if window and not window.has_passed(self.today):
            raise SimError("closed before the request window ended")
        self._close(code)
        self.f.update(closure=Closure.REPLIED if self.state == S.REPLIED else Closure.REVIEWED, closed_at=self.now)
        self._finish(S.CLOSED)

    def release(self) -> None:
        """Forget the rows once they are written; keep what a later repeat petition refers to."""
        self.deadlines, self.events, self.documents, self.steps, self.links = [], [], [], [], {}
        self.related = None

    # ---- for the planner

    def deadline(self, code: str) -> DeadlineRow | None:
        rows = [d for d in self.deadlines if d.rule == code]
        return rows[-1] if rows else None

    @property
    def number(self) -> str:
        return self.f["number"]

    @property
    def closure(self) -> str:
        return self.f["closure"]


def _pending_label(year: int) -> str:
    """The label record_hearing writes for a pending limit (Deadline.pending_label)."""
    return Deadline(due_on=None, pending_year=year).pending_label


@dataclass
class _RuleUnit:
    unit: str


@dataclass
class _Limit:
    """What engine.deadline_due reads of a Deadline."""

    started_on: dt.date
    days: int
    extra_days: int
    fixed_due: dt.date | None
    rule: _RuleUnit


@dataclass
class _Probe:
    category: str
    handling_route: str


_SERVICE_TRANSITION = {
    "route_case": "route", "inform_case": "inform", "not_accept_case": "not_accept", "decide_objection": "decide_objection",
    "accept_case": "accept", "object_case": "object", "extend_deadline": "extend", "reply_case": "reply",
    "evaluate_case": "evaluate", "request_review": "request_review", "issue_review_opinion": "review",
    "request_re_review": "request_re_review", "record_hearing": "hearing", "issue_re_review_opinion": "re_review",
    "close_case": "close", "register_case": "register",
}


# --------------------------------------------------------------------------- context of a run


@dataclass
class PoolEntry:
    """An earlier case that a later petition may repeat (Art.19 ¶3, Art.36 ¶3)."""

    sim: CaseSim
    at: dt.datetime  # when it was re-reviewed (final_pool) or replied (repeat_pool)

    @property
    def number(self) -> str:
        return self.sim.number

    @property
    def closure(self) -> str:
        return self.sim.closure


@dataclass
class Context:
    """What every case of one run shares: the city, the calendar, the rules, the clock, counters."""

    world: World
    calendar: Calendar
    rules: dict
    now: dt.datetime
    seed: int
    offset: int  # cases generated by earlier runs (so a second run draws new cases)
    total: int  # cases in this run
    counters: dict = field(default_factory=dict)  # (bureau id, year) → last case sequence
    repeat_pool: deque = field(default_factory=lambda: deque(maxlen=400))
    final_pool: deque = field(default_factory=lambda: deque(maxlen=400))

    def __post_init__(self):
        self.tz = timezone.get_current_timezone()
        self.today = self.date_of(self.now)
        self.guide_back = settings.XINFANG_SKIP_LEVEL_POLICY == "guide_back"
        self._desc: dict[int, set[int]] = {}
        self._labels: dict = {}
        self._plan_calendar: Calendar | None = None
        organs = self.world.organs
        self.by_id = {o.pk: o for o in organs.values()}
        self.children: dict[int, list[int]] = {}
        for o in organs.values():
            if o.parent_id:
                self.children.setdefault(o.parent_id, []).append(o.pk)
        self.staff_cache: dict[tuple[str, str], object] = {}
        self._working_minutes = self._build_axis()
        self._cum, acc = [], 0
        for _d, m in self._working_minutes:
            acc += m
            self._cum.append(acc)
        from .world import ORGANS

        self.by_dept = {o.dept: o.code for o in ORGANS if o.dept and o.level == Level.CITY}
        self.street_organ = {o.region: o.code for o in ORGANS if o.dept == "local"}
        # Organs whose staff a 检举控告 may accuse (never the government that oversees them all).
        self.accusable = [o for o in organs.values() if o.kind in (OrganKind.FUNCTIONAL, OrganKind.GOVERNMENT)
                          and o.level in (Level.CITY, Level.COUNTY, Level.TOWNSHIP) and o.code != "LJSZF"]

    # -- organs and people

    def organ(self, code: str) -> Organ:
        return self.world.organs[code]

    def descendants(self, organ: Organ) -> set[int]:
        if organ.pk not in self._desc:
            found, frontier = {organ.pk}, [organ.pk]
            while frontier:
                frontier = [c for pk in frontier for c in self.children.get(pk, []) if c not in found]
                found.update(frontier)
            self._desc[organ.pk] = found
        return self._desc[organ.pk]

    def staff(self, organ: Organ, role: str):
        key = (organ.code, role)
        if key not in self.staff_cache:
            user = self.world.staff(organ.code, role)
            if user is not None:
                user.organ = organ  # share the loaded organ (no query per access)
            self.staff_cache[key] = user
        user = self.staff_cache[key]
        if user is None:
            raise SimError(f"no {role} at {organ.code}")
        return user

    def next_number(self, bureau: Organ, year: int) -> tuple[int, str]:
        key = (bureau.pk, year)
        self.counters[key] = self.counters.get(key, 0) + 1
        seq = self.counters[key]
        return seq, f"{bureau.code.upper()}-{year}-{seq:06d}"

    # -- time

    def date_of(self, moment: dt.datetime) -> dt.date:
        """The local date of `moment` (timezone.localdate without its per-call lookups)."""
        return moment.astimezone(self.tz).date()

    def label(self, choices, value) -> str:
        key = (choices, value)
        if key not in self._labels:
            self._labels[key] = str(choices(value).label)
        return self._labels[key]

    def plan_due(self, row: DeadlineRow) -> dt.date:
        """The due date of `row`, or for a pending one an estimate counting its uncovered year as
        plain weekdays — only to place the staff actions that fall before it, never as a deadline.
        A pending limit ends in a year after today, so no planned step (all lie in the past) can
        be misplaced by the estimate."""
        if row.due_on is not None:
            return row.due_on
        if self._plan_calendar is None:
            cal = self.calendar
            self._plan_calendar = Calendar(frozenset(range(1, 10000)), cal.holidays, cal.workdays)
        row_rule = _RuleUnit(self.rules[row.rule].unit)
        return deadline_due(_Limit(row.started_on, row.days, row.extra_days, row.fixed_due, row_rule), self._plan_calendar)

    def is_workday(self, day: dt.date) -> bool:
        """Whether staff work on `day` (the calendar; plain weekdays in a year it does not cover —
        only to place a staff action in time, never to compute a deadline)."""
        try:
            return self.calendar.is_working_day(day)
        except CalendarNotCovered:
            return day.weekday() < 5

    def at(self, day: dt.date, minute: int) -> dt.datetime:
        """`minute` minutes after 08:30 on `day`, local time."""
        return dt.datetime.combine(day, dt.time(8, 30), self.tz) + dt.timedelta(minutes=minute)

    def _build_axis(self) -> list[tuple[dt.date, int]]:
        """Working days of the past 12 months, with their working minutes (today: up to now)."""
        days = []
        start = self.today - dt.timedelta(days=365)
        day = start
        while day <= self.today:
            if self.is_workday(day):
                minutes = 540
                if day == self.today:
                    minutes = int((self.now - self.at(day, 0)).total_seconds() // 60) - 1
                if minutes > 0:
                    days.append((day, minutes))
            day += dt.timedelta(days=1)
        return days

    def registration_time(self, k: int, rng: random.Random) -> dt.datetime:
        """Case k of the run is registered at the (k + u)/total-th point of the working time of the
        past year: registrations are spread evenly and come in the order of k."""
        total = self._cum[-1]
        point = (k + rng.random() * 0.999) / self.total * total
        i = bisect.bisect_right(self._cum, point)
        i = min(i, len(self._cum) - 1)
        before = self._cum[i - 1] if i else 0
        day, _m = self._working_minutes[i]
        seconds = (point - before) * 60
        return self.at(day, 0) + dt.timedelta(seconds=int(seconds))

    def later(self, prev: dt.datetime, days: int, rng: random.Random, *, same_day_minutes=(10, 150)) -> dt.datetime:
        """A staff action `days` calendar days after `prev` (moved to a working day, in office
        hours), strictly after `prev`."""
        day = self.date_of(prev) + dt.timedelta(days=max(0, days))
        for _i in range(30):
            if self.is_workday(day):
                break
            day += dt.timedelta(days=1)
        if day == self.date_of(prev):
            t = prev + dt.timedelta(minutes=rng.randint(*same_day_minutes), seconds=rng.randint(0, 59))
            if t.astimezone(self.tz).hour < 18:
                return t
            return self.later(prev, 1, rng)
        return self.at(day, rng.randint(0, 530)) + dt.timedelta(seconds=rng.randint(0, 59))

    def office_time(self, day: dt.date, rng: random.Random) -> dt.datetime:
        """Some time in office hours on the first working day from `day` on."""
        for _i in range(30):
            if self.is_workday(day):
                break
            day += dt.timedelta(days=1)
        return self.at(day, rng.randint(0, 530)) + dt.timedelta(seconds=rng.randint(0, 59))

    def night(self, day: dt.date, rng: random.Random) -> dt.datetime:
        """When the nightly sweep (`xinfang deadlines sweep`) runs on `day`."""
        return dt.datetime.combine(day, dt.time(1, 30), self.tz) + dt.timedelta(seconds=rng.randint(0, 300))


# --------------------------------------------------------------------------- the planner

_DISTRICT_WEIGHTS = tuple((i, d[4]) for i, d in enumerate(DISTRICTS))
_CHANNELS = [(Channel.ONLINE, 40), (Channel.LETTER, 18), (Channel.CALL, 15), (Channel.FAX, 2), (Channel.VISIT, 25)]
_CATEGORY_SHARE = {"claim": 66, "suggestion": 14, "report": 20}
_BY_CATEGORY = {c: [m for m in texts.MATTERS if m.category == c] for c in _CATEGORY_SHARE}
LEGAL_DEPTS = {"ga", "fy", "jc", "zfw"}  # 涉法涉诉: sent to 政法 organs (诉访分离, Art.22, 28)
# Matters that may end in a 信访处理意见书 of a government organ, hence in 复查 and 复核 (Art.35, 36).
_REVIEWABLE = [m for m in texts.MATTERS if m.category == "claim" and m.dept not in LEGAL_DEPTS | {"jw"}
               and any(r in ("r5", "r6") for r, _w in m.routes)]
_STALLS = [(S.REGISTERED, 6), (S.PENDING, 9), (S.RETURNED, 9), (S.HANDLING, 12), (S.REPLIED, 4), (S.REVIEW, 7),
           (S.REVIEWED, 7), (S.RE_REVIEW, 10)]
_SATISFACTION = {
    "support": (70, 25, 5), "explain": (40, 40, 20), "reject": (15, 35, 50), "adopted": (80, 18, 2),
    "partly": (50, 40, 10), "not_adopted": (25, 45, 30), "handled": (60, 30, 10),
}
_OUTCOMES = {"claim": (("support", 35), ("explain", 45), ("reject", 20)),
             "suggestion": (("adopted", 45), ("partly", 35), ("not_adopted", 20)),
             "report": (("handled", 75), ("explain", 25))}


@functools.lru_cache(maxsize=None)
def _table(pairs: tuple) -> tuple[tuple, list]:
    items, weights = zip(*pairs)
    return items, list(itertools.accumulate(weights))


def _pick(rng, pairs):
    """One item of `pairs` ((item, weight), …) at random by weight."""
    items, cum = _table(tuple(pairs))
    return rng.choices(items, cum_weights=cum)[0]


@dataclass
class Fate:
    stall: str | None = None
    force_object: bool = False
    force_review: bool = False
    force_re_review: bool = False


@dataclass
class CaseResult:
    sim: CaseSim


_RURAL = [(d, s) for d, _n, *_r in DISTRICTS for s in STREETS[d] if any(c.endswith("村") for c in s[2])]


def _place(ctx: Context, rng: random.Random, district_index: int, *, rural: bool = False) -> dict:
    """Where a matter arises: a community (社区) or, for a rural matter, a village (村)."""
    dcode, dname, dshort, _short, _w = DISTRICTS[district_index]
    scode, sname, communities = rng.choice(STREETS[dcode])
    if rural:
        dcode, (scode, sname, communities) = rng.choice(_RURAL)
        dcode, dname, dshort, _short, _w = DISTRICTS[_index_of(dcode)]
    choices = [i for i, c in enumerate(communities) if c.endswith("村")] if rural else range(len(communities))
    ci = rng.choice(choices)
    community = communities[ci]
    if community.endswith("村"):
        detail = f"{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
    else:
        detail = f"{texts.estate(rng)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
    return {"district": dname, "dcode": dcode, "dshort": dshort, "street": sname, "scode": scode,
            "community": community, "region": ctx.world.regions[f"{scode}{ci + 1:03d}"],
            "address": f"临江市{dname}{sname}{community}{detail}"}


def _petitioner(ctx: Context, rng: random.Random, place: dict, representative: bool) -> PetitionerData:
    male = rng.random() < 0.55
    area = place["dcode"] if rng.random() < 0.85 else rng.choice(DISTRICTS)[0]
    return PetitionerData(
        name=texts.person_name(rng, male),
        id_number=texts.id_number(rng, area, male, ctx.today) if rng.random() < 0.93 else "",
        phone=texts.mobile(rng) if rng.random() < 0.95 else "",
        address=place["address"] if not representative else _place(ctx, rng, _index_of(place["dcode"]))["address"],
        is_representative=representative,
    )


def _index_of(dcode: str) -> int:
    return next(i for i, d in enumerate(DISTRICTS) if d[0] == dcode)


def _competent(ctx: Context, matter: Matter, place: dict, rng: random.Random) -> Organ:
    """The organ competent for `matter` where it arose (属地管理、分级负责、谁主管谁负责)."""
    organs = ctx.world.organs
    dept = matter.dept
    if dept == "local":
        code = ctx.street_organ.get(place["scode"])
        return organs[code] if code else organs[f"{place['dshort']}ZF"]
    r = rng.random()
    if dept in ("zj", "cg"):
        local = f"{place['dshort']}{dept.upper()}"
        if local in organs:
            if r < 0.8:
                return organs[local]
        elif r < 0.5:
            return organs[f"{place['dshort']}ZF"]
    elif dept in ("rs", "zr", "hb", "jy", "wj", "jt", "sj") and r < 0.35:
        # 属地管理: the district government answers for matters arising in its area (the demo city
        # has no district departments of these kinds).
        return organs[f"{place['dshort']}ZF"]
    return organs[ctx.by_dept[dept]]


def _alternative(ctx: Context, organ: Organ, place: dict) -> Organ:
    """Where the bureau sends a case after agreeing with an objection (Art.23 ¶3): the district
    government where the matter arose, or the city government if that was the objector."""
    gov = ctx.organ(f"{place['dshort']}ZF")
    if organ.pk != gov.pk:
        return gov
    return ctx.organ("LJSZF")


def _bureau_for(ctx: Context, competent: Organ, place: dict, rng: random.Random, *, visit: bool) -> Organ:
    """Where the petition is registered: mostly the bureau at the competent organ's level."""
    district_bureau = ctx.organ(f"{place['dshort']}XF")
    if competent.level in (Level.COUNTY, Level.TOWNSHIP):
        return district_bureau if rng.random() < (0.62 if visit else 0.75) else ctx.organ("LJXF")
    return ctx.organ("LJXF") if rng.random() < 0.88 else district_bureau


def _late(rng, p: float) -> bool:
    return rng.random() < p


_OBJECTABLE = [m for m in texts.MATTERS if m.dept not in LEGAL_DEPTS | {"jw"}]


def plan_case(ctx: Context, k: int) -> CaseResult:
    """Generate case k of this run and take it as far as the present allows."""
    rng = random.Random(f"xinfang-demo:{ctx.seed}:{ctx.offset + k}")
    sim = CaseSim(ctx, k)
    reg_at = ctx.registration_time(k, rng)
    age = (ctx.now - reg_at).days
    fate = Fate()
    # Draw every decision of this preamble unconditionally, so a case's fate does not depend on
    # what earlier cases left in the pools.
    r_stall, r_final, r_repeat = rng.random(), rng.random(), rng.random()
    # Some recent cases stall at one state (an organ that has not acted yet: these are the 临期 and
    # 超期 cases of the workbenches, and the replied cases the sweep has not filed yet).
    if r_stall < (0.16 if age < 200 else 0.025):
        fate.stall = _pick(rng, _STALLS)
        fate.force_object = fate.stall == S.RETURNED
        fate.force_review = fate.stall in (S.REVIEW, S.REVIEWED, S.RE_REVIEW)
        fate.force_re_review = fate.stall == S.RE_REVIEW

    # --- who petitions about what, where: a new matter, or a repeat of an earlier case
    final = repeat = None
    if not fate.stall and r_final < 0.3:
        final = _take(ctx.final_pool, reg_at - dt.timedelta(days=2))
    if final is None and not fate.stall and r_repeat < 0.04:
        repeat = _take(ctx.repeat_pool, reg_at - dt.timedelta(days=3))
    earlier = final or repeat
    if earlier is not None:
        matter, district_index = earlier.sim.matter, earlier.sim.district
    else:
        if fate.force_review:
            matter = _weighted_matter(rng, _REVIEWABLE)
        elif fate.force_object:
            matter = _weighted_matter(rng, _OBJECTABLE)
        else:
            matter = _weighted_matter(rng, _BY_CATEGORY[_pick(rng, _CATEGORY_SHARE.items())])
        district_index = _pick(rng, _DISTRICT_WEIGHTS)
    place = _place(ctx, rng, district_index, rural=matter.rural)
    district_index = _index_of(place["dcode"])
    sim.matter, sim.district = matter, district_index
    competent = _competent(ctx, matter, place, rng)
    if fate.force_review and (competent.parent_id is None or ctx.by_id[competent.parent_id].parent_id is None):
        competent = ctx.organ(f"{place['dshort']}ZF")
    accused = None
    if matter.accused:
        accused = rng.choice(ctx.accusable)
        place["accused"] = accused.name
    channel = _pick(rng, _CHANNELS)
    if earlier is not None and channel == Channel.CALL:
        channel = Channel.VISIT
    bureau = _bureau_for(ctx, competent, place, rng, visit=channel == Channel.VISIT)
    # 越级走访 (Art.20): a visit to the city about a matter of the district, not raised there first.
    skip_level = (channel == Channel.VISIT and bureau.level == Level.CITY and competent.level != Level.CITY
                  and earlier is None and not fate.stall and rng.random() < 0.5)
    group = channel == Channel.VISIT and earlier is None and rng.random() < matter.collective * 0.9
    joint = not group and earlier is None and channel in (Channel.LETTER, Channel.ONLINE) and rng.random() < matter.collective * 0.5

    # --- the petitioners (Art.19, 20)
    if earlier is not None:
        pets = [PetitionerData(**{**earlier.sim.petitioners[0].__dict__, "is_representative": False})]
        head = 1
    elif group:
        reps = _pick(rng, ((1, 1), (2, 2), (3, 3), (4, 3), (5, 3)))
        pets = [_petitioner(ctx, rng, place, True) for _i in range(min(reps, MAX_REPRESENTATIVES))]
        pets += [_petitioner(ctx, rng, place, False) for _i in range(rng.choice([0, 0, 0, 1, 2]))]
        head = rng.randint(max(6, len(pets) + 1), 80)
    elif joint:
        pets = [_petitioner(ctx, rng, place, False) for _i in range(rng.randint(1, 3))]
        head = rng.randint(len(pets) + 2, 40)
    else:
        pets = [_petitioner(ctx, rng, place, False) for _i in range(1 if rng.random() < 0.88 else 2)]
        head = len(pets)

    s = texts.slots(rng, place, pets[0].name, head)
    if earlier is not None:
        # A repeat petition restates the earlier matter (重复信访; with the same facts and reasons
        # after 复核 it is 不再受理, Art.36).
        old = earlier.sim.f
        place["region"] = old["region"]
        title = ("再次反映:" + old["title"])[:200]
        content = (f"本人此前反映的“{old['title']}”问题(信访事项编号{earlier.number}),"
                   f"{rng.choice(texts.REPEAT_REASONS)}现再次反映。原反映内容:{old['content']}")[:MAX_CONTENT]
    else:
        title, content = texts.compose(rng, matter, s, group or joint)
    data = {
        "channel": channel, "received_at": _received(ctx, rng, channel, reg_at), "title": title, "content": content,
        "category": matter.category, "topic": ctx.world.topics[matter.topic], "region": place["region"],
        "head_count": head, "skip_level": skip_level, "group_visit": group,
        "major_urgent": (group and rng.random() < 0.15) or rng.random() < 0.01,
        "law_related": matter.dept in LEGAL_DEPTS, "accused_organ": accused,
        "related_case": earlier, "same_facts": final is not None,
    }
    sim.related = earlier
    sim.register_case(reg_at, ctx.staff(bureau, Role.REGISTRAR), data, pets)
    try:
        _run(ctx, sim, rng, fate, matter, place, competent, final)
    except Stop:
        pass
    return CaseResult(sim)


_MATTER_WEIGHTS: dict[int, list] = {}


def _weighted_matter(rng, matters: list[Matter]) -> Matter:
    cum = _MATTER_WEIGHTS.get(id(matters))
    if cum is None:
        cum = _MATTER_WEIGHTS[id(matters)] = list(itertools.accumulate(m.weight for m in matters))
    return rng.choices(matters, cum_weights=cum)[0]


def _take(pool: deque, before: dt.datetime) -> PoolEntry | None:
    for i, entry in enumerate(pool):
        if entry.at < before:
            del pool[i]
            return entry
    return None


def _received(ctx: Context, rng, channel: str, reg_at: dt.datetime) -> dt.datetime:
    """When the petition arrived: visits and calls minutes before registration, letters and faxes
    up to a day before, online petitions up to three days before (at any hour)."""
    if channel in (Channel.VISIT, Channel.CALL):
        lag = dt.timedelta(minutes=rng.randint(5, 50))
    elif channel in (Channel.LETTER, Channel.FAX):
        lag = dt.timedelta(minutes=rng.randint(30, 26 * 60))
    else:
        lag = dt.timedelta(minutes=rng.randint(10, 72 * 60))
    return (reg_at - lag).replace(microsecond=0)


def _step_at(ctx: Context, prev: dt.datetime, days: int, rng) -> dt.datetime:
    t = ctx.later(prev, days, rng)
    if t > ctx.now:
        raise Stop
    return t


def _run(ctx: Context, sim: CaseSim, rng, fate: Fate, matter: Matter, place: dict, competent: Organ, final) -> None:
    f = sim.f
    last = lambda: sim.steps[-1].at  # noqa: E731
    objected = False
    target = competent
    routing_stalls = (S.PENDING, S.HANDLING, S.REPLIED, S.RETURNED, S.REVIEW, S.REVIEWED, S.RE_REVIEW)
    # ---------------------------------------------------------------- the bureau (Art.22) and the organ (Art.23)
    while True:
        if f["state"] == S.REGISTERED:
            if fate.stall == S.REGISTERED:
                raise Stop
            bureau = f["current_organ"]
            registrar = ctx.staff(bureau, Role.REGISTRAR)
            days = rng.randint(16, 30) if _late(rng, 0.04) else rng.choice([0, 0, 1, 1, 2, 3, 4, 6, 8])
            t = _step_at(ctx, last(), days, rng)
            if final is not None:
                sim.not_accept_case(t, registrar, reason=texts.not_again_reason(final.number, ctx.date_of(final.at)))
                return
            if f["skip_level"] and f["channel"] == Channel.VISIT and ctx.guide_back:
                district_bureau = ctx.organ(f"{place['dshort']}XF").name
                if rng.random() < 0.5:
                    sim.not_accept_case(t, registrar, reason=texts.skip_level_reason(district_bureau))
                else:
                    sim.inform_case(t, registrar, channel=f"向{district_bureau}逐级走访反映",
                                    reason=texts.skip_level_reason(district_bureau))
                return
            forced = fate.stall in routing_stalls
            if matter.inform and not forced and not objected and rng.random() < 0.3:
                sim.inform_case(t, registrar, channel=matter.inform,
                                reason=f"信访人反映的{matter.issue}依法应当通过法定途径解决,已告知其{matter.inform}。")
                return
            if not forced and not objected and rng.random() < 0.012:
                sim.not_accept_case(t, registrar, reason=rng.choice(texts.NOT_ACCEPT_AT_BUREAU))
                return
            if (bureau.level == Level.CITY and target.level != Level.CITY and not objected
                    and not f["major_urgent"] and rng.random() < 0.45):
                # 属地管理: the district bureau routes it to the organ there.
                kind, organ, assigned_due = RouteKind.FORWARD, ctx.organ(f"{place['dshort']}XF"), None
            else:
                organ, assigned_due = target, None
                if f["law_related"]:
                    kind = RouteKind.LEGAL
                elif organ.kind == OrganKind.DISCIPLINE:
                    kind = RouteKind.DISCIPLINE
                elif f["major_urgent"] or rng.random() < 0.12:
                    kind = RouteKind.ASSIGN
                    day = ctx.date_of(t) + dt.timedelta(days=rng.randint(20, 45))
                    while not ctx.is_workday(day):
                        day += dt.timedelta(days=1)
                    assigned_due = day
                else:
                    kind = RouteKind.FORWARD
            sim.route_case(t, registrar, kind=kind, organ=organ, note=texts.route_note(rng, kind),
                           assigned_due=assigned_due)
            continue
        if f["state"] != S.PENDING:
            raise SimError(f"unexpected state {f['state']}")
        if fate.stall == S.PENDING:
            raise Stop
        organ = f["current_organ"]
        handler = ctx.staff(organ, Role.HANDLER)
        window = sim._open_window("object")
        may_object = (window is not None and f["routed_by"] is not None and not objected
                      and matter.dept not in LEGAL_DEPTS and matter.dept != "jw")
        if may_object and (fate.force_object or rng.random() < 0.05):
            t = _step_at(ctx, last(), rng.randint(0, 3), rng)
            if not window.has_passed(ctx.date_of(t)):
                sim.object_case(t, handler, reason=rng.choice(texts.OBJECTIONS))
                objected = True
                if fate.stall == S.RETURNED:
                    raise Stop
                sender = f["current_organ"]
                t = _step_at(ctx, last(), rng.randint(0, 4), rng)
                agree = rng.random() < 0.6
                note = rng.choice(["同意退回,另行转送。", ""]) if agree else rng.choice(texts.OBJECTION_REFUSED)
                sim.decide_objection(t, ctx.staff(sender, Role.REGISTRAR), agree=agree, note=note)
                if agree:
                    target = _alternative(ctx, organ, place)
                continue
        late = _late(rng, 0.05)
        t = _step_at(ctx, last(), rng.randint(16, 28) if late else rng.randint(0, 10), rng)
        if not fate.stall and not f["assigned_due"] and rng.random() < 0.015:
            sim.not_accept_case(t, handler, reason=rng.choice(texts.NOT_ACCEPT_AT_ORGAN))
            return
        sim.accept_case(t, handler, route=_route_for(rng, matter, organ, fate), note=texts.accept_note(rng))
        break

    # ---------------------------------------------------------------- handling (Art.29–34)
    if fate.stall == S.HANDLING:
        raise Stop
    organ = f["current_organ"]
    handler = ctx.staff(organ, Role.HANDLER)
    base = last()
    running = sim._open_window("assign") or sim._open_window("handle")
    if running is not None:
        span = (ctx.plan_due(running) - ctx.date_of(base)).days
        # A pending limit cannot be extended (the 延期告知书 states both dates, Art.34), nor one
        # whose new date would fall in an uncovered year: the head then does not extend.
        if span > 12 and _late(rng, 0.1) and running.due_on is not None:
            t = _step_at(ctx, base, span - rng.randint(2, 10), rng)
            try:
                sim.extend_deadline(t, ctx.staff(organ, Role.HEAD), days=rng.choice([10, 15, 20, 30]),
                                    reason=rng.choice(texts.EXTENSION_REASONS))
                base = t
            except CalendarNotCovered:
                pass
            span = (ctx.plan_due(running) - ctx.date_of(base)).days
        if _late(rng, 0.07):
            days = span + rng.randint(2, 35)
        else:
            days = rng.randint(min(5, max(span - 1, 0)), max(span - 1, 1))
    else:
        days = rng.randint(8, 70)
    t = _step_at(ctx, base, days, rng)
    outcome = _pick(rng, _OUTCOMES[matter.category])
    if fate.force_review and outcome == "support":
        outcome = "reject"
    day = ctx.date_of(t)
    first_day = max(ctx.date_of(e.at) for e in sim.events if e.action == "accept")  # delivered after acceptance
    # Usually delivered the day the reply is recorded; now and then recorded a day or two late.
    delivered = max(first_day, day - dt.timedelta(days=rng.choice([0] * 8 + [1, 2])))
    sim.reply_case(t, handler, outcome=outcome, opinion=texts.opinion(rng, matter, outcome),
                   facts=texts.facts(rng, organ.short_name, day), basis=texts.basis(matter), delivered_on=delivered,
                   report=texts.report(rng) if f["report_required"] else "")
    replied_at = t
    ctx.repeat_pool.append(PoolEntry(sim, replied_at))

    # ---------------------------------------------------------------- evaluation, 复查 or filing
    if fate.stall == S.REPLIED:
        raise Stop
    bureau = f["bureau"]
    superior = ctx.by_id.get(organ.parent_id)
    review_ok = sim._review_allowed() and superior is not None and superior.parent_id is not None
    eval_window = sim.deadline("evaluate")
    evaluation = None
    if rng.random() < 0.72:
        satisfaction = _pick(rng, zip(("satisfied", "basic", "unsatisfied"), _SATISFACTION[outcome]))
        if fate.force_review:
            satisfaction = "unsatisfied"
        bureau_sat = _pick(rng, (("satisfied", 60), ("basic", 25), ("unsatisfied", 5), ("", 10)))
        eval_at = ctx.later(replied_at, rng.randint(1, 20), rng)
        if not eval_window.has_passed(ctx.date_of(eval_at)):
            actor = ctx.staff(bureau, Role.REGISTRAR) if rng.random() < 0.7 else handler
            evaluation = (eval_at, actor, satisfaction, bureau_sat)
    wants_review = bool(review_ok) and (fate.force_review or rng.random() < (
        0.4 if evaluation and evaluation[2] == Satisfaction.UNSATISFIED else 0.07))

    def evaluate_before(limit: dt.datetime) -> None:
        nonlocal evaluation
        if evaluation and evaluation[0] < limit:
            if evaluation[0] > ctx.now:
                raise Stop
            at, actor, satisfaction, bureau_sat = evaluation
            evaluation = None
            sim.evaluate_case(at, actor, organ_satisfaction=satisfaction, bureau_satisfaction=bureau_sat)

    if wants_review:
        window = sim._open_window("review_request")
        t = ctx.later(replied_at, rng.randint(5, 26), rng)
        if window.has_passed(ctx.date_of(t)):
            t = ctx.later(replied_at, 3, rng)
        evaluate_before(t)
        if t > ctx.now:
            raise Stop
        requested = max(window.started_on, ctx.date_of(t) - dt.timedelta(days=rng.choice([0, 0, 1, 2])))
        sim.request_review(t, ctx.staff(superior, Role.HANDLER), reason=rng.choice(texts.REVIEW_REASONS),
                           requested_on=requested)
        _review(ctx, sim, rng, fate, superior)
        return

    # Filed once the 复查 window is over (Art.35), or soon after the reply when there is none.
    window = sim._open_window("review_request")
    if window is not None:
        close_day = ctx.plan_due(window) + dt.timedelta(days=1)
    else:
        close_day = ctx.date_of(replied_at) + dt.timedelta(days=rng.randint(1, 10))
    by_sweep = rng.random() < 0.45
    if by_sweep:
        close_at = ctx.night(close_day, rng)
    else:
        close_at = ctx.office_time(close_day + dt.timedelta(days=rng.randint(0, 6)), rng)
    evaluate_before(close_at)
    if close_at > ctx.now:
        raise Stop
    sim.close_case(close_at, None if by_sweep else (handler if rng.random() < 0.75 else ctx.staff(bureau, Role.REGISTRAR)))
    if evaluation is not None:
        evaluate_before(evaluation[0] + dt.timedelta(seconds=1))  # evaluated after filing


def _route_for(rng, matter: Matter, organ: Organ, fate: Fate) -> str:
    """How the organ handles the case (Art.29–31)."""
    if matter.category == Category.SUGGESTION:
        return HandlingRoute.SUGGESTION
    if matter.category == Category.REPORT:
        return HandlingRoute.REPORT
    if fate.force_review or fate.stall == S.REPLIED:
        return HandlingRoute.OPINION
    if organ.kind in (OrganKind.COURT, OrganKind.PROCURATORATE, OrganKind.POLITICAL_LEGAL):
        return HandlingRoute.LITIGATION
    if organ.kind == OrganKind.DISCIPLINE:
        return HandlingRoute.PARTY
    routes = [(r, w) for r, w in matter.routes if organ.kind != OrganKind.GOVERNMENT or r in ("r5", "r6")]
    return _pick(rng, routes or (("r6", 1),))


def _review(ctx: Context, sim: CaseSim, rng, fate: Fate, superior: Organ) -> None:
    """复查 one level up (Art.35) and perhaps 复核 one more level up (Art.36)."""
    f = sim.f
    last = lambda: sim.steps[-1].at  # noqa: E731
    if fate.stall == S.REVIEW:
        raise Stop
    reviewer = ctx.staff(superior, Role.HANDLER)
    duty = sim._open_window("review")
    span = (ctx.plan_due(duty) - ctx.date_of(last())).days
    days = span + rng.randint(2, 15) if _late(rng, 0.05) else rng.randint(min(8, max(span - 1, 0)), max(span - 1, 1))
    t = _step_at(ctx, last(), days, rng)
    outcome = _pick(rng, (("uphold", 75), ("amend", 15), ("revoke", 10)))
    sim.issue_review_opinion(t, reviewer, outcome=outcome, opinion=rng.choice(texts.REVIEW_OPINIONS[outcome]))
    if fate.stall == S.REVIEWED:
        raise Stop
    reviewed_at = t
    top = ctx.by_id.get(superior.parent_id)
    if top is not None and (fate.force_re_review or rng.random() < 0.3):
        window = sim._open_window("re_review_request")
        t = ctx.later(reviewed_at, rng.randint(4, 26), rng)
        if window.has_passed(ctx.date_of(t)):
            t = ctx.later(reviewed_at, 2, rng)
        if t > ctx.now:
            raise Stop
        final_handler = ctx.staff(top, Role.HANDLER)
        sim.request_re_review(t, final_handler, reason=rng.choice(texts.RE_REVIEW_REASONS),
                              requested_on=ctx.date_of(t))
        if fate.stall == S.RE_REVIEW:
            raise Stop
        if rng.random() < 0.4:
            t = _step_at(ctx, last(), rng.randint(3, 12), rng)
            sim.record_hearing(t, final_handler, days=rng.randint(3, 15), note=rng.choice(texts.HEARINGS))
        duty = sim._open_window("re_review")
        span = (ctx.plan_due(duty) - ctx.date_of(last())).days
        t = _step_at(ctx, last(), rng.randint(min(6, max(span - 1, 0)), max(span - 1, 1)), rng)
        outcome = _pick(rng, (("uphold", 80), ("amend", 12), ("revoke", 8)))
        sim.issue_re_review_opinion(t, final_handler, outcome=outcome,
                                    opinion=rng.choice(texts.RE_REVIEW_OPINIONS[outcome]))
        ctx.final_pool.append(PoolEntry(sim, t))
        return
    close_day = ctx.plan_due(sim._open_window("re_review_request")) + dt.timedelta(days=1)
    by_sweep = rng.random() < 0.5
    close_at = ctx.night(close_day, rng) if by_sweep else ctx.office_time(close_day + dt.timedelta(days=rng.randint(0, 5)), rng)
    if close_at > ctx.now:
        raise Stop
    sim.close_case(close_at, None if by_sweep else reviewer)
