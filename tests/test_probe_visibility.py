"""A systematic probe of 《信访工作条例》第30条第3款 (and the one access layer, cases/access.py):
the identity of a 检举控告 reporter and the reporting material never reach the accused organ.

Every URL pattern of the project is taken from Django's resolver (not from a hand list): pages,
htmx partials, exports, document downloads, the API (/api/v1/, /api/open311/), the portal and the
admin site. Its parameters are filled with the ids of three 检举控告 cases against 城管局 (X) by
one reporter and of everything hanging off them (documents, attachments, supervision letters,
leader assignments, instructions, escalations, duplicate links, legal advice, notices, alerts,
reports, the portal submission …), and it is requested as X's handler, X's head (with every
role), a user of an unrelated organ and an anonymous caller. No answer may carry a marker: the
reporter's name, ID number, phone and address, the title and content, the attachment's name and
bytes, the case numbers (read from HTML, JSON, CSV, and XLSX/DOCX unzipped; a PDF through its
DOCX twin).

Counts: every page without parameters, and every page of X's own case, is requested before and
after the reports exist and must be the same for X (no total, badge, chart or related-case list
moves). Searches: each query key a page reads (recorded while it runs, so a new filter is probed
too) is asked for each marker and must answer as for a string of the same shape matching nothing;
draft screens posted by htmx (duplicate candidates, suggestions) get the reporter's petition typed
in. Outbound: no record addressing an organ about the reports (found by walking the models), no
e-mail and no notifier message goes to X. Art.28: a handler who stepped aside can take no action.

A pattern that cannot take part is named in ALLOWED with the reason; a new pattern that leaks, or
whose parameters cannot be filled, fails the test.
"""
from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client

from tests.conftest import NOW, petition_data
from tests.leakprobe import KeyRecorder, all_leaves, fill, normalised, readable_text
from xinfang.api.models import ApiToken
from xinfang.cases import workflow
from xinfang.cases.models import Category, RouteKind
from xinfang.orgs.models import Role, User

# The reporter and the reporting material: strings that occur nowhere else.
REPORTER = dict(name="欧阳青鸾", id_number="440304197708153623", phone="13957240681", address="江州市秘巷九十九号青鸾居")
TITLE = "举报城管执法队长索贿青鸾事"
CONTENT = "城管执法队长在青鸾街检查时索要现金贰万元,暗号鹊桥仙,有录音为证。"
ATTACHMENT_NAME = "青鸾录音整理.txt"
ATTACHMENT_BYTES = "录音整理:鹊桥仙暗号交接现金XF30-ATTACHMENT-MARKER".encode()

# The same shapes, matching nothing: what a search for a marker must look like from outside.
CONTROL = {REPORTER["name"]: "司马白鹭", REPORTER["id_number"]: "440304197708159515", REPORTER["phone"]: "13957249999",
           REPORTER["address"]: "江州市明巷八十八号白鹭居", "鹊桥仙": "蝶恋花", "青鸾": "白鹭"}

# Patterns that cannot take part, and why. Everything else is probed.
ALLOWED = {
    "logout": "ends the session the probe is using; shows no case data",
    "set_language": "POST-only language switch; redirects, shows no case data",
}

USERS = ("accused_handler", "accused_head", "unrelated", "anonymous")


@pytest.fixture
def quiet_request_log():
    """Thousands of refused requests would each log a warning: keep the test output readable."""
    import logging
    logger = logging.getLogger("django.request")
    logger.disabled = True
    yield
    logger.disabled = False


@pytest.fixture
def world(quiet_request_log, cast, make_case, settings, travel):
    settings.XINFANG_NOTIFIER = "tests.test_probe_visibility.RecordingNotifier"
    RecordingNotifier.sent.clear()
    w = cast
    w.accused_head = User.objects.create_user("urban_head", password="x", organ=cast.urban, roles=list(Role.values),
                                              full_name="城管局长", email="head@urban.example")
    w.accused.email = "handler@urban.example"
    w.accused.save(update_fields=["email"])
    # X has ordinary cases of its own, so its pages show lists, counts and charts.
    w.own_case = workflow.route_case(cast.registrar, make_case(title="占道经营投诉"), kind=RouteKind.FORWARD, organ=cast.urban)
    w.own_case = workflow.accept_case(cast.accused, w.own_case, route="r6")
    w.housing_case = make_case("handling")
    return w


class RecordingNotifier:
    """Collects what the portal would send (settings.XINFANG_NOTIFIER)."""

    sent: list[dict] = []

    def send_query_code(self, **kwargs):
        self.sent.append(kwargs)


def build_report(w):
    """The 检举控告 case against 城管局, and everything that can hang off it."""
    from xinfang.coordination import services as coordination
    from xinfang.supervision import services as supervision

    pet = workflow.PetitionerData(**REPORTER)
    data = petition_data(category=Category.REPORT, accused_organ=w.urban, title=TITLE, content=CONTENT)
    case = workflow.register_case(w.registrar, data, [pet], [(ATTACHMENT_NAME, ContentFile(ATTACHMENT_BYTES, ATTACHMENT_NAME))])
    case = workflow.route_case(w.registrar, case, kind=RouteKind.DISCIPLINE, organ=w.discipline)
    case = workflow.accept_case(w.discipline_handler, case, route="report")
    w.report = case
    # A second report by the same reporter, online, so that duplicate links and a portal
    # submission (with its one-time token) exist.
    from xinfang.cases.access import Citizen
    second = workflow.submit_online(Citizen(label="probe"), w.bureau, {**petition_data(category=Category.REPORT, accused_organ=w.urban,
                                    title=TITLE + "续", content=CONTENT + "再次反映。")}, [pet])
    from xinfang.portal.models import Submission
    Submission.objects.create(case=second, token="probe-token-qingluan", code_hash="x")
    w.second = second
    # A third, so the reporter counts as a repeat petitioner for the early-warning job.
    w.third = workflow.register_case(w.registrar, {**data, "title": TITLE + "三"}, [pet])
    supervision.issue_letter(w.supervisor, case, kind="supervise", organ=w.discipline, reason="请依规办理" + "青鸾")
    supervision.list_case(w.supervisor, case, reason="挂牌督办青鸾")
    supervision.assign_leader(w.supervisor, case, leader=w.leader, assigned_on=NOW.date(), note="包案青鸾")
    supervision.instruct(w.leader, case, text="批示:查清青鸾事")
    supervision.escalate(w.supervisor, case, conference="联席会议", decided_on=NOW.date(), to_organ=w.prov_gov, reason="提级青鸾")
    coordination.record_advice(w.registrar, case=case, adviser_kind="lawyer", adviser_name="律师甲", advice="建议青鸾依法举报",
                               given_at=NOW)
    return case


def clients(w):
    """A logged-in client (session and bearer token) per probed user."""
    out = {}
    for key, user in (("accused_handler", w.accused), ("accused_head", w.accused_head), ("unrelated", w.other)):
        c = Client()
        c.force_login(user)
        _token, raw = ApiToken.issue(user, f"probe-{user.username}")
        c.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
        out[key] = c
    out["anonymous"] = Client()
    return out


def markers(w) -> list[str]:
    return [*REPORTER.values(), TITLE, "鹊桥仙", "青鸾", ATTACHMENT_NAME, "XF30-ATTACHMENT-MARKER",
            *(c.number for c in (w.report, w.second, w.third))]


def own_candidates(own: str) -> dict[str, list[str]]:
    """Parameter values that name X's own case (and formats and actions, which name no object)."""
    from xinfang.cases.workflow import TRANSITIONS
    return {"fmt": ["docx", "csv", "xlsx"], "action": sorted(TRANSITIONS), "kind": ["review"], "pk": [own]}


def candidates(w) -> dict[str, list[str]]:
    """Values for every URL parameter name: the ids of the report and of what hangs off it."""
    from xinfang.analytics.models import Alert, Notice, Report
    from xinfang.cases.models import Attachment
    from xinfang.mediation.models import Mediation
    from xinfang.coordination.models import LegalAdvice
    from xinfang.dedup.models import Link
    from xinfang.documents.models import Document
    from xinfang.supervision import models as sv

    cases = [w.report, w.second, w.third]
    case_ids = [c.pk for c in cases]
    ids = {
        "case": case_ids,
        "doc": list(Document.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "att": list(Attachment.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "letter": list(sv.SupervisionLetter.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "assignment": list(sv.LeaderAssignment.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "instruction": list(sv.Instruction.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "escalation": list(sv.Escalation.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "link": list(Link.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "advice": list(LegalAdvice.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "mediation": list(Mediation.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "notice": list(Notice.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "alert": list(Alert.objects.filter(cases__in=cases).values_list("pk", flat=True)),
        "report": list(Report.objects.values_list("pk", flat=True)),
    }
    # The report's own ids first: a pattern with several parameters is probed over the first
    # combinations (fill's limit), and those must pair the report with every other value.
    every = list(dict.fromkeys(str(i) for v in ids.values() for i in v))
    s = lambda key: [str(i) for i in ids[key]]  # noqa: E731
    words = ["docx", "pdf", "csv", "xlsx"]
    from xinfang.cases.workflow import TRANSITIONS
    from xinfang.dedup.service import ACTIONS
    actions = sorted(set(TRANSITIONS) | set(ACTIONS))
    return {
        "pk": every, "case_pk": s("case"), "case_id": s("case"), "a": s("case"), "b": s("case"),
        "doc_pk": s("doc"), "doc_id": s("doc"), "att_pk": s("att"), "assignment_pk": s("assignment"),
        "escalation_pk": s("escalation"), "fmt": words, "action": actions, "kind": ["review", "re_review"],
        "number": [c.number for c in cases], "token": ["probe-token-qingluan"],
        # Directory and admin parameters: they do not take a case, but are probed all the same.
        "organ_id": [str(w.urban.pk), str(w.discipline.pk)], "topic_id": ["1"], "code": ["1"],
        "object_id": every, "app_label": ["cases", "orgs"], "content_type_id": ["1"], "url": ["probe-nowhere/"],
        "rest": ["v1/cases/" + str(w.report.pk) + "/x"],
    }


# Query keys a view reads that carry no search: paging, and names a template looks up on request.GET.
NOT_SEARCH_KEYS = {"page", "urlencode", "items", "next", "format"}
# The markers a search box, filter or autocomplete could be asked for.
def search_markers(w) -> list[str]:
    return [REPORTER["name"], REPORTER["id_number"], REPORTER["phone"], "鹊桥仙", w.report.number]


def control_of(w, marker: str) -> str:
    if marker == w.report.number:
        return marker[:-3] + "999"  # same shape, no such case
    return CONTROL[marker]


def _get(client, path, data=None, recorder: KeyRecorder | None = None):
    if recorder is None:
        return client.get(path, data or {})
    with recorder.recording():
        return client.get(path, data or {})


def _post(client, path, data=None, recorder: KeyRecorder | None = None):
    if recorder is None:
        return client.post(path, data or {})
    with recorder.recording():
        return client.post(path, data or {})


def _is_admin(leaf) -> bool:
    return leaf.route.startswith("admin/")


class Probe:
    """Requests, failures and a request count for one run."""

    def __init__(self, w, clients):
        self.w, self.clients = w, clients
        self.failures: list[str] = []
        self.requests = 0

    def call(self, user, method, path, data=None, recorder=None):
        self.requests += 1
        send = _get if method == "get" else _post
        return send(self.clients[user], path, data, recorder)

    def check(self, user, method, path, response, marks, label=""):
        if response.status_code >= 500:
            self.failures.append(f"{user} {method.upper()} {path}: {response.status_code}")
        found = [m for m in marks if m in readable_text(response)]
        if response.status_code == 200 and "pdf" in response.get("Content-Type", "") and path.count("pdf") == 1:
            # PDF text is not readable here (embedded font subsets): the same document as DOCX,
            # which the same view serves from the same data, is read instead.
            sibling = self.call(user, method, path.replace("pdf", "docx"))
            found += [m for m in marks if m in readable_text(sibling)]
        if found:
            self.failures.append(f"{user} {method.upper()} {path} {label}: {response.status_code} shows {found}")

    def same(self, user, method, path, key_data, marker, control, label):
        """A search for `marker` must answer as a search for `control` (echoes aside)."""
        hit = self.call(user, method, path, key_data(marker))
        miss = self.call(user, method, path, key_data(control))
        a = readable_text(hit)
        for m, c in ([(marker, control)] if marker != "REAL" else DRAFT_ECHOES):
            a = a.replace(m, c)
        a = normalised(a)
        b = normalised(readable_text(miss))
        if (hit.status_code, a) != (miss.status_code, b):
            self.failures.append(f"{user} {method.upper()} {path} {label}: the answer differs for {marker!r} "
                                 f"({hit.status_code}) and for {control!r} ({miss.status_code}): {_diff(a, b)}")


# A petition as a registrar would type it: the reporter and the reporting material ("REAL"), or
# the same shapes matching nothing ("NONE"). Chosen by the last part of the field name.
DRAFT_VALUES = {
    "name": (REPORTER["name"], "司马白鹭"), "id_number": (REPORTER["id_number"], "440304197708159515"),
    "phone": (REPORTER["phone"], "13957249999"), "address": (REPORTER["address"], "江州市明巷八十八号白鹭居"),
    "title": (TITLE, "咨询公积金提取办理流程白鹭事"),
    "content": (CONTENT, "想了解住房公积金提取需要准备哪些材料,办理窗口在哪里,白鹭问询。"),
}
DRAFT_ECHOES = [pair for pair in DRAFT_VALUES.values()]


def _draft(keys: dict[str, str], which: str) -> dict[str, str]:
    index = 0 if which == "REAL" else 1
    out = {}
    for key, fixed in keys.items():
        field = key.rsplit("-", 1)[-1]
        out[key] = DRAFT_VALUES[field][index] if field in DRAFT_VALUES else fixed
    return out


def _discover_post_keys(probe, path) -> dict[str, str]:
    """The keys a POST view reads, with a neutral value each: a key whose value "1" makes the view
    read more keys (a formset's TOTAL_FORMS) keeps "1", the others are left empty."""
    data: dict[str, str] = {}
    for _round in range(3):
        recorder = KeyRecorder()
        probe.call("accused_head", "post", path, _draft(data, "NONE") if data else {}, recorder=recorder)
        new = recorder.keys - set(data) - NOT_SEARCH_KEYS - {"csrfmiddlewaretoken"}
        if not new:
            break
        data.update({k: "1" if k.endswith("TOTAL_FORMS") else "" for k in new})
    return data


def _diff(a: str, b: str) -> str:
    import difflib
    lines = [d for d in difflib.unified_diff(b.splitlines(), a.splitlines(), lineterm="", n=0) if d[:1] in "+-"]
    return " | ".join(lines[2:8])[:600]


def test_no_url_pattern_shows_a_report_to_the_accused_organ_art30(world, travel):
    started, cpu = time.monotonic(), time.process_time()
    w = world
    probe = Probe(w, clients(w))
    leaves = [leaf for leaf in all_leaves() if leaf.name not in ALLOWED]
    plain = {leaf.route: (fill(leaf, {}) or [None])[0] for leaf in leaves if not leaf.params}
    assert len(leaves) > 300 and len(plain) > 100  # the resolver was walked, admin and API included
    accused = ("accused_handler", "accused_head")

    # 1. Before the report exists: what X sees on every page without parameters, and which query
    #    keys each page reads (recorded, so that a new filter is probed without a new entry here).
    background_jobs(w, travel)  # X's own reminders, alerts and report exist before as after
    before, get_keys, post_only = {}, {}, []
    for route, path in plain.items():
        if path is None:
            continue
        for u in accused:
            recorder = KeyRecorder()
            r = probe.call(u, "get", path, recorder=recorder)
            before[u, path] = (r.status_code, normalised(readable_text(r)))
            get_keys.setdefault(path, set()).update(recorder.keys - NOT_SEARCH_KEYS)
            if r.status_code == 405 and path not in post_only:
                post_only.append(path)

    # X's own case, on every page that takes a case: the report must not show up beside it
    # (related cases, duplicate links, repeat counts, suggestions).
    own = str(w.own_case.pk)
    for leaf in leaves:
        if leaf.params and not _is_admin(leaf):
            for path in fill(leaf, own_candidates(own), [own], limit=40):
                r = probe.call("accused_head", "get", path)
                before["accused_head", path] = (r.status_code, normalised(readable_text(r)))

    build_report(w)
    background_jobs(w, travel)
    marks = markers(w)
    cand = candidates(w)
    default = list(dict.fromkeys(v for values in cand.values() for v in values))
    unfillable = []

    # 2. Every pattern, its parameters filled with the report's ids, as every probed user.
    for leaf in leaves:
        if leaf.params:
            # The admin site refuses anyone without is_staff before it looks an object up.
            paths = fill(leaf, cand, default, limit=1 if _is_admin(leaf) else 40)
        else:
            paths = [plain[leaf.route]] if plain[leaf.route] else []
        if not paths:
            unfillable.append(leaf.route)
            continue
        for u in USERS:
            for path in paths:
                r = probe.call(u, "get", path)
                probe.check(u, "get", path, r, marks, leaf.name)
                if r.status_code == 405:
                    break  # the method is refused before any lookup: the other ids change nothing

    # 3. Pages without parameters: X sees exactly what it saw before the report existed, so no
    #    count, badge, total or chart reveals it.
    for (u, path), (status, text) in before.items():
        r = probe.call(u, "get", path)
        if (r.status_code, normalised(readable_text(r))) != (status, text):
            probe.failures.append(f"{u} GET {path}: changed once the report existed ({status} -> {r.status_code}): "
                                  f"{_diff(normalised(readable_text(r)), text)}")

    # 4. Searches, filters and autocomplete: each key a page reads, asked for each marker, answers
    #    as it answers for a string that matches nothing.
    #    X's head holds every role, so it reaches every list; a page that refused it (403/404/405)
    #    searches nothing.
    for path, keys in get_keys.items():
        if before["accused_head", path][0] != 200:
            continue
        for key in sorted(keys):
            for marker in search_markers(w):
                probe.same("accused_head", "get", path, lambda v: {key: v}, marker, control_of(w, marker), f"?{key}=")

    # 5. Draft screens posted by htmx (duplicate candidates, suggestions …): the form the view
    #    reads (found by posting and recording the keys it looks up) is filled as a registrar
    #    would type the reporter's petition, and must answer as for a petition matching nothing.
    for path in post_only:
        keys = _discover_post_keys(probe, path)
        probe.same("accused_head", "post", path, lambda v: _draft(keys, v), "REAL", "NONE", f"POST {sorted(keys)}")

    elapsed = time.monotonic() - started
    print(f"probe: {len(leaves)} patterns ({len(plain)} without parameters), {len(USERS)} users, "
          f"{probe.requests} requests, {elapsed:.1f} s ({time.process_time() - cpu:.1f} s CPU)")
    assert not unfillable, f"patterns whose parameters could not be filled: {unfillable}"
    if probe.failures:
        import pathlib
        pathlib.Path("/tmp/probe_failures.txt").write_text("\n".join(probe.failures))
    assert not probe.failures, "\n".join(probe.failures)


def background_jobs(w, travel):
    """Run what the scheduler runs: statistics, early warnings, X's monthly report, and the
    deadline reminders on days when the limits are near and past (then back to the usual instant:
    the notices exist while the pages are probed)."""
    from xinfang.analytics import aggregates
    from xinfang.analytics.hot import detect_alerts
    from xinfang.analytics.jobs import send_deadline_reminders
    from xinfang.analytics.reports import generate_report

    aggregates.refresh()
    detect_alerts()
    generate_report("monthly", organ=w.urban, start=dt.date(2026, 6, 1), end=dt.date(2026, 6, 30), user=w.accused_head)
    for days in (14, 55, 100):
        travel(NOW + dt.timedelta(days=days))
        send_deadline_reminders()
    travel(NOW)


def test_nothing_about_a_report_is_sent_or_addressed_to_the_accused_organ_art30(world, travel):
    """Outbound: every record that addresses an organ about a case (notices, letters, alerts,
    links, mediations, whatever is added later: found by walking the models) leaves X out for the
    reports against it; no e-mail to X's staff, and no notifier message, carries a marker."""
    from django.apps import apps
    from django.db import models

    from xinfang.cases.models import Case

    w = world
    build_report(w)
    background_jobs(w, travel)
    reports = [w.report, w.second, w.third]
    x_organs = set(w.urban.descendant_ids())
    x_users = set(User.objects.filter(organ_id__in=x_organs).values_list("pk", flat=True))
    checked, found = [], []
    for model in apps.get_models():
        fields = [f for f in model._meta.get_fields() if f.concrete or f.many_to_many]
        to_case = [f for f in fields if f.is_relation and f.related_model is Case and (f.many_to_one or f.many_to_many)]
        if not to_case or model is Case:
            continue
        to_organ = [f for f in fields if f.is_relation and f.many_to_one and f.related_model is w.urban.__class__]
        to_user = [f for f in fields if f.is_relation and f.many_to_one and f.related_model is User]
        for cf in to_case:
            rows = model._default_manager.filter(**{f"{cf.name}__in": reports})
            for of in to_organ:
                checked.append(f"{model.__name__}.{cf.name}/{of.name}")
                found += [f"{model.__name__} {r.pk}: {of.name}" for r in rows.filter(**{f"{of.name}_id__in": x_organs})]
            for uf in to_user:
                checked.append(f"{model.__name__}.{cf.name}/{uf.name}")
                found += [f"{model.__name__} {r.pk}: {uf.name}" for r in rows.filter(**{f"{uf.name}_id__in": x_users})]
    assert {"Notice.case/organ", "CaseOrgan.case/organ", "SupervisionLetter.case/organ", "Alert.cases/organ"} <= set(checked)
    assert not found, found
    from xinfang.analytics.models import Notice
    assert Notice.objects.filter(case__in=reports).exists()  # the reminders did run, to the organs handling them

    x_addresses = {u.email for u in User.objects.filter(pk__in=x_users)} - {""}
    for message in mail.outbox:
        text = "\n".join([message.subject, message.body, *[a[1] if isinstance(a[1], str) else "" for a in message.attachments]])
        assert not set(message.recipients()) & x_addresses or not any(m in text for m in markers(w)), message.subject
    x_phones = {REPORTER["phone"]}  # the reporter's own phone is where the query code belongs
    for sent in RecordingNotifier.sent:
        assert sent.get("email", "") not in x_addresses
        assert sent.get("phone", "") in x_phones | {""}
        assert not any(m in str(sent) for m in markers(w)[:4] if m != REPORTER["phone"])


def test_a_recused_handler_can_take_no_action_anywhere_art28(world):
    """回避 (条例第28条): every action endpoint the resolver knows, on the pages and in the API,
    refuses the handler who stepped aside, and changes nothing; a colleague still can."""
    from xinfang.cases.workflow import TRANSITIONS

    w = world
    case = build_report(w)
    colleague = User.objects.create_user("jiwei2", password="x", organ=w.discipline, roles=[Role.HANDLER], full_name="纪检二")
    workflow.recuse(w.discipline_handler, case, user=w.discipline_handler, reason="被反映人系本人亲属")
    body = {"outcome": "handled", "opinion": "已依规处理", "facts": "查明事实", "basis": "依据", "reason": "理由",
            "delivered_on": NOW.date().isoformat(), "days": 10, "route": "report", "kind": "forward", "organ_id": w.housing.pk,
            "organ": w.housing.pk, "channel": "诉讼", "agree": True}
    recused = Client()
    recused.force_login(w.discipline_handler)
    _token, raw = ApiToken.issue(w.discipline_handler, "probe-recused")
    recused.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    action_leaves = [leaf for leaf in all_leaves() if "action" in leaf.params or "actions/" in leaf.route]
    assert any(leaf.name == "case_action" for leaf in action_leaves) and any("api" in leaf.name for leaf in action_leaves)
    before = (case.state, case.version, case.events.count())
    tried = 0
    for leaf in action_leaves:
        for path in fill(leaf, {"pk": [str(case.pk)], "case_id": [str(case.pk)], "action": sorted(TRANSITIONS)}, limit=40):
            for response in (recused.post(path, body),
                             recused.post(path, json.dumps(body), content_type="application/json")):
                tried += 1
                assert response.status_code in (400, 403, 404, 405, 409, 422), (path, response.status_code)
    case.refresh_from_db()
    assert (case.state, case.version, case.events.count()) == before and tried >= 2 * len(TRANSITIONS)
    # The colleague who did not step aside replies, through the same API.
    _token, raw = ApiToken.issue(colleague, "probe-colleague")
    ok = Client().post(f"/api/v1/cases/{case.pk}/actions/reply", json.dumps(body), content_type="application/json",
                       headers={"Authorization": f"Bearer {raw}"})
    assert ok.status_code == 200, ok.content.decode()
