"""The REST API, version 1 (/api/v1): cases and their transitions, events, documents,
evaluations, organs and topics; OpenAPI 3 at /api/v1/openapi.json, Swagger UI at /api/v1/docs.

The API is one more interface over the same core as the workbench:
- every case is looked up through `xinfang.cases.access` (`cases_visible_to`, `get_case_for_user`):
  a case the token's user may not see is 404, never 403;
- every change is the workflow's service function (`xinfang.cases.workflow`), whose own checks
  (state, role, organ, windows) decide; the API adds no rule of its own;
- petitioners are masked unless the caller asks (`?reveal=true`) and holds the case, and each
  full view is audited (REGULATION §8; the accused organ never sees a 检举控告 case, Art.30);
- errors are RFC 9457 problem documents with Chinese messages (problems.py).
"""
from __future__ import annotations

import datetime as dt
import json
import os
from typing import Optional

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Max, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.throttling import AuthRateThrottle

from xinfang.audit.log import append as audit
from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError, cases_visible_to, get_case_for_user, transition_refusal
from xinfang.cases.models import Case, Topic
from xinfang.cases.workflow import TRANSITIONS, RegistrationError
from xinfang.deadlines.models import Deadline
from xinfang.documents.models import Document
from xinfang.documents.render import CONTENT_TYPES, PdfFontMissing, ensure_files
from xinfang.orgs.models import Organ, Region

from . import schemas as s
from .auth import TokenAuth
from .idempotency import run_idempotent
from .problems import PROBLEM_TYPE, Problem, field_errors_from_ninja, from_problem, problem_response
from .serializers import case_detail, case_summary, document_dict, event_dict, organ_dict, topic_dict

RATE = getattr(settings, "XINFANG_API_RATE", None) or os.environ.get("XINFANG_API_RATE", "600/m")
MAX_PAGE = 200

# Field names of the service functions → the API's field names.
FIELD_NAMES = {"organ": "organ_id", "topic": "topic_id", "region": "region_code", "accused_organ": "accused_organ_id",
               "related_case": "related_case_id"}


class OfflineSwagger(DocsBase):
    """Swagger UI from ninja's packaged static files; our template keeps every script in a static
    file (no inline <script>, ready for a strict Content-Security-Policy)."""

    def render_page(self, request, api, **kwargs):
        return render(request, "api/docs.html", {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)})


class XinfangAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *args, **kwargs):
        """Error responses are documented once for every operation, as application/problem+json."""
        schema = super().get_openapi_schema(*args, **kwargs)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = s.ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
        nested = schemas["Problem"].pop("$defs", {})
        schemas.update(nested)
        problem = {"description": _("错误(RFC 9457 problem+json)"),
                   "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                # ninja keys its responses by int, openapi_extra by str: merge them (the JSON
                # would otherwise carry the same key twice, which Swagger UI refuses).
                responses = {}
                for code, spec in operation.get("responses", {}).items():
                    responses.setdefault(str(code), {}).update(spec)
                operation["responses"] = responses
                for code in ("400", "401", "403", "404", "405", "409", "422", "429", "503"):
                    responses.setdefault(code, problem)
        return schema


api = XinfangAPI(
    title="信访工作平台开放接口",
    version="1.0",
    description=_("机关系统对接接口。认证:Authorization: Bearer <令牌>(管理员在后台“接口令牌”或用 xinfang token create 创建)。"
                  "错误以 application/problem+json 返回。详见 docs/api.md。"),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs=OfflineSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    throttle=[AuthRateThrottle(RATE)],
)


# --------------------------------------------------------------------------- errors


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return from_problem(request, exc)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(request, 401, _("缺少有效的接口令牌。请在请求头中提供 Authorization: Bearer <令牌>;令牌可能已过期或被吊销。"))


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    wait = int(exc.wait or 1)
    return problem_response(request, 429, _("请求过于频繁,请%(n)s秒后重试。") % {"n": wait}, headers={"Retry-After": str(wait)})


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    detail = {400: _("请求内容不是有效的JSON或格式有误。"), 403: _("无权进行该操作。")}.get(exc.status_code, _("请求失败。"))
    return problem_response(request, exc.status_code, detail)


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    errors = field_errors_from_ninja(exc.errors)
    detail = ";".join(f"{e['field']}:{e['detail']}" for e in errors) or _("请求参数有误。")
    return problem_response(request, 422, detail, errors=errors)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(request, 404, _("信访事项或资源不存在,或无权查看。"))


@api.exception_handler(WorkflowError)
def _workflow(request, exc: WorkflowError):
    if isinstance(exc, RegistrationError):
        errors = [{"field": FIELD_NAMES.get(f, f), "detail": m} for f, msgs in exc.errors.items() for m in msgs]
        return problem_response(request, 422, exc.message, errors=errors)
    if exc.field:
        return problem_response(request, 422, exc.message, errors=[{"field": FIELD_NAMES.get(exc.field, exc.field), "detail": exc.message}])
    return problem_response(request, 409, exc.message, slug="workflow-refused")


def _json(status: int, body) -> HttpResponse:
    return HttpResponse(json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")


def _actor_label(request) -> dict:
    token = getattr(request, "api_token", None)
    return {"via": "api", "token": token.prefix if token else ""}


# --------------------------------------------------------------------------- organs and topics

organs = Router(tags=["机关"])


@organs.get("", response=list[s.OrganOut], summary="机关列表")
def list_organs(request, active: Optional[bool] = None):
    """All organs (the directory a routing decision picks from)."""
    qs = Organ.objects.select_related("region").order_by("region__code", "kind", "name")
    if active is not None:
        qs = qs.filter(is_active=active)
    return [organ_dict(o) for o in qs]


@organs.get("/{organ_id}", response=s.OrganOut, summary="机关详情")
def get_organ(request, organ_id: s.Id):
    organ = Organ.objects.select_related("region").filter(pk=organ_id).first()
    if organ is None:
        raise Http404
    return organ_dict(organ)


topics = Router(tags=["问题分类"])


@topics.get("", response=list[s.TopicOut], summary="问题分类")
def list_topics(request, active: Optional[bool] = None):
    qs = Topic.objects.select_related("parent").order_by("parent_id", "sort", "name")
    if active is not None:
        qs = qs.filter(is_active=active)
    return [topic_dict(t) for t in qs]


@topics.get("/{topic_id}", response=s.TopicOut, summary="问题分类详情")
def get_topic(request, topic_id: s.Id):
    topic = Topic.objects.select_related("parent").filter(pk=topic_id).first()
    if topic is None:
        raise Http404
    return topic_dict(topic)


# --------------------------------------------------------------------------- cases

cases = Router(tags=["信访事项"])


class CaseFilters(s.Schema):
    number: Optional[s.Annotated[s.Text, s.Field(max_length=40)]] = s.Field(None, description="编号(前缀匹配)")
    state: Optional[s.StateCode] = None
    organ_id: Optional[s.Id] = s.Field(None, description="当前所在机关")
    handling_organ_id: Optional[s.Id] = None
    category: Optional[s.CategoryCode] = None
    channel: Optional[s.ChannelCode] = None
    topic_id: Optional[s.Id] = None
    received_from: Optional[s.Day] = s.Field(None, description="收到日期起(含)")
    received_to: Optional[s.Day] = s.Field(None, description="收到日期止(含)")
    updated_since: Optional[s.Moment] = s.Field(None, description="更新时间晚于(用于增量同步)")
    q: Optional[s.Annotated[s.Text, s.Field(max_length=100)]] = s.Field(None, description="标题或内容包含")
    order: s.choice(["received", "updated"]) = s.Field(
        "received", description="received:收到时间新者在前;updated:更新时间旧者在前(配合 updated_since 增量同步)")
    limit: s.Annotated[int, s.Field(ge=1, le=MAX_PAGE)] = 50
    offset: s.Annotated[int, s.Field(ge=0, le=10_000_000)] = 0


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@cases.get("", response=s.CasePage, summary="信访事项列表")
def list_cases(request, filters: Query[CaseFilters]):
    """Cases the token's user may see (as on the workbench), newest first. No personal data."""
    f = filters
    qs = cases_visible_to(request.user)
    if f.number:
        qs = qs.filter(number__startswith=f.number.strip())
    for field, value in (("state", f.state), ("current_organ_id", f.organ_id), ("handling_organ_id", f.handling_organ_id),
                         ("category", f.category), ("channel", f.channel), ("topic_id", f.topic_id)):
        if value is not None:
            qs = qs.filter(**{field: value})
    if f.received_from:
        qs = qs.filter(received_at__gte=_day_start(f.received_from))
    if f.received_to:
        qs = qs.filter(received_at__lt=_day_start(f.received_to + dt.timedelta(days=1)))
    if f.updated_since:
        since = f.updated_since if timezone.is_aware(f.updated_since) else timezone.make_aware(f.updated_since)
        qs = qs.filter(updated_at__gt=since)
    if f.q and f.q.strip():
        qs = qs.filter(Q(title__icontains=f.q.strip()) | Q(content__icontains=f.q.strip()))
    count = qs.count()
    ordering = ("updated_at", "pk") if f.order == "updated" else ("-received_at", "-pk")
    page = qs.select_related("current_organ").order_by(*ordering)[f.offset:f.offset + f.limit]
    return {"count": count, "limit": f.limit, "offset": f.offset, "items": [case_summary(c) for c in page]}


def _registration_data(payload: s.CaseIn, user) -> tuple[dict, list]:
    """Resolve the payload's ids into objects for register_case; unknown ids are field errors."""
    errors = []
    data = payload.model_dump(exclude={"petitioners", "topic_id", "region_code", "accused_organ_id", "related_case_id"})
    data["received_at"] = payload.received_at or timezone.now()
    lookups = (
        ("topic_id", "topic", payload.topic_id, lambda v: Topic.objects.filter(pk=v, is_active=True).first()),
        ("region_code", "region", payload.region_code, lambda v: Region.objects.filter(code=v).first()),
        ("accused_organ_id", "accused_organ", payload.accused_organ_id, lambda v: Organ.objects.filter(pk=v).first()),
        # A related case must be one the caller may see (access.py); otherwise it "does not exist".
        ("related_case_id", "related_case", payload.related_case_id, lambda v: cases_visible_to(user).filter(pk=v).first()),
    )
    for field, key, value, find in lookups:
        data[key] = None
        if value is not None:
            obj = find(value)
            if obj is None:
                errors.append({"field": field, "detail": _("不存在或无权使用。")})
            data[key] = obj
    if errors:
        raise Problem(422, _("请求参数有误:%(fields)s。") % {"fields": "、".join(e["field"] for e in errors)}, errors=errors)
    pets = [workflow.PetitionerData(**p.model_dump()) for p in payload.petitioners]
    return data, pets


@cases.post("", response={201: s.CaseDetail}, summary="登记信访事项")
def create_case(request, payload: s.CaseIn):
    """Register a petition as the token's user (a registrar) through workflow.register_case
    (source="api"; duplicate screening and suggestions run on the cases_created signal).
    Send an `Idempotency-Key` header to make retries safe."""
    user = request.user

    def create():
        data, pets = _registration_data(payload, user)
        case = workflow.register_case(user, data, pets, source="api")
        case = Case.objects.select_related("current_organ", "region").get(pk=case.pk)
        return 201, case_detail(case, user)

    return run_idempotent(request, request.api_token, create, _json)


def _visible_case(request, case_id: int) -> Case:
    """The case if the token's user may see it, else 404 (access.py: missing and forbidden alike)."""
    return get_case_for_user(request.user, case_id)


@cases.get("/{case_id}", response=s.CaseDetail, summary="信访事项详情")
def get_case(request, case_id: s.Id, reveal: bool = False):
    """One case. Petitioners are masked; `reveal=true` shows them in full to the organ holding the
    case (its current organ or the registering bureau) and records the view in the audit log
    (REGULATION §8). Others asking to reveal get 403."""
    case = _visible_case(request, case_id)
    if reveal:
        try:
            get_case_for_user(request.user, case.pk, write=True)
        except Http404:
            raise Problem(403, _("只有信访事项当前所在机关或登记机关可以查看完整个人信息。")) from None
        audit(request.user, "case.reveal_identity", case, number=case.number,
              petitioners=list(case.petitioners.values_list("pk", flat=True)), **_actor_label(request))
        response = _json(200, case_detail(case, request.user, revealed=True))
        response["Cache-Control"] = "no-store"
        return response
    return case_detail(case, request.user)


@cases.get("/{case_id}/events", response=list[s.EventOut], summary="办理记录(时间线)")
def list_events(request, case_id: s.Id):
    case = _visible_case(request, case_id)
    return [event_dict(e) for e in case.events.select_related("actor", "organ").order_by("at", "pk")]


@cases.get("/{case_id}/documents", response=list[s.DocumentOut], summary="文书列表")
def list_documents(request, case_id: s.Id):
    case = _visible_case(request, case_id)
    return [document_dict(d) for d in case.documents.select_related("organ").order_by("issued_at", "pk")]


@cases.get("/{case_id}/documents/{doc_id}/{fmt}", url_name="document_download", summary="下载文书",
           openapi_extra={"responses": {"200": {"description": "DOCX / PDF", "content": {
               CONTENT_TYPES["docx"]: {"schema": {"type": "string", "format": "binary"}},
               CONTENT_TYPES["pdf"]: {"schema": {"type": "string", "format": "binary"}}}}}})
def download_document(request, case_id: s.Id, doc_id: s.Id, fmt: s.choice(["docx", "pdf"])):
    """A document of a visible case, as on the workbench (documents.views); each download is
    audited."""
    case = _visible_case(request, case_id)
    document = Document.objects.filter(pk=doc_id, case=case).select_related("case", "organ").first()
    if document is None:
        raise Http404
    try:
        ensure_files(document)
    except PdfFontMissing as exc:
        raise Problem(503, str(exc), slug="pdf-font-missing", title=_("服务暂不可用")) from None
    audit(request.user, "document.download", document, case=case.number, number=document.number, format=fmt,
          **_actor_label(request))
    stored = document.pdf if fmt == "pdf" else document.docx
    return FileResponse(stored.open("rb"), as_attachment=True, filename=f"{document.number}{document.title}.{fmt}",
                        content_type=CONTENT_TYPES[fmt])


@cases.get("/{case_id}/evaluation", response=s.EvaluationOut, summary="满意度评价")
def get_evaluation(request, case_id: s.Id):
    case = _visible_case(request, case_id)
    return _evaluation(case)


def _evaluation(case: Case, evaluated_at=None) -> dict:
    if evaluated_at is None and case.satisfaction_organ:
        evaluated_at = case.events.filter(action="evaluate").aggregate(m=Max("at"))["m"]
    window = Deadline.objects.filter(case=case, rule_id="evaluate").order_by("-pk").values_list("due_on", flat=True).first()
    return {"case_id": case.pk, "number": case.number, "handling_organ_id": case.handling_organ_id,
            "satisfaction_organ": case.satisfaction_organ, "satisfaction_bureau": case.satisfaction_bureau,
            "evaluated_at": timezone.localtime(evaluated_at) if evaluated_at else None, "window_due_on": window}


@cases.get("/{case_id}/actions", response=list[s.ActionOut], summary="可办理环节")
def list_actions(request, case_id: s.Id):
    """Every transition with whether the token's user may take it now, and why not."""
    case = _visible_case(request, case_id)
    out = []
    for name, t in TRANSITIONS.items():
        if not t.sources:
            continue
        refusal = transition_refusal(request.user, case, name)
        out.append({"name": name, "label": str(t.label), "article": t.article, "allowed": refusal is None,
                    "refusal": refusal or ""})
    return out


def _act(request, case_id: int, name: str, call) -> dict:
    """Perform transition `name` through its service function. Refused before the service runs:
    409 when the case's state does not allow it, 403 when the user's role or organ does not; the
    service's own refusals are 422 (a field) or 409; nothing is changed on a refusal.

    Like the workbench's case_action, the case is looked up for reading, not with write=True:
    some steps belong to an organ that neither holds the case nor registered it (the organ one
    level up registers 复查/复核, Art.35-36), and the service's check_transition decides which
    organ may act (access.acting_organ_id)."""
    case = _visible_case(request, case_id)
    refusal = transition_refusal(request.user, case, name)
    if refusal:
        status = 409 if case.state not in TRANSITIONS[name].sources else 403
        raise Problem(status, refusal, slug="workflow-refused")
    last_doc = case.documents.aggregate(m=Max("pk"))["m"] or 0
    case = call(case)
    case = Case.objects.select_related("current_organ", "region").get(pk=case.pk)
    issued = Document.objects.filter(case=case, pk__gt=last_doc).select_related("organ").order_by("pk")
    return {"case": case_detail(case, request.user), "documents": [document_dict(d) for d in issued]}


actions = Router(tags=["办理环节"])
ACTION = {"response": s.ActionResult}


@actions.post("/{case_id}/actions/route", summary="转送/交办(第22条)", **ACTION)
def action_route(request, case_id: s.Id, payload: s.RouteIn):
    def call(case):
        organ = Organ.objects.filter(pk=payload.organ_id).first()
        return workflow.route_case(request.user, case, kind=payload.kind, organ=organ, note=payload.note,
                                   assigned_due=payload.assigned_due)
    return _act(request, case_id, "route", call)


@actions.post("/{case_id}/actions/inform", summary="告知其他法定途径(第22条)", **ACTION)
def action_inform(request, case_id: s.Id, payload: s.InformIn):
    return _act(request, case_id, "inform",
                lambda case: workflow.inform_case(request.user, case, channel=payload.channel, reason=payload.reason))


@actions.post("/{case_id}/actions/not_accept", summary="不予受理(第19、23、36条)", **ACTION)
def action_not_accept(request, case_id: s.Id, payload: s.ReasonIn):
    return _act(request, case_id, "not_accept", lambda case: workflow.not_accept_case(request.user, case, reason=payload.reason))


@actions.post("/{case_id}/actions/accept", summary="受理(第23条)", **ACTION)
def action_accept(request, case_id: s.Id, payload: s.AcceptIn):
    return _act(request, case_id, "accept",
                lambda case: workflow.accept_case(request.user, case, route=payload.route, note=payload.note))


@actions.post("/{case_id}/actions/object", summary="提出异议并退回(第23条)", **ACTION)
def action_object(request, case_id: s.Id, payload: s.ReasonIn):
    return _act(request, case_id, "object", lambda case: workflow.object_case(request.user, case, reason=payload.reason))


@actions.post("/{case_id}/actions/decide_objection", summary="处理异议(第23条)", **ACTION)
def action_decide_objection(request, case_id: s.Id, payload: s.DecideObjectionIn):
    return _act(request, case_id, "decide_objection",
                lambda case: workflow.decide_objection(request.user, case, agree=payload.agree, note=payload.note))


@actions.post("/{case_id}/actions/extend", summary="延期(第34条)", **ACTION)
def action_extend(request, case_id: s.Id, payload: s.ExtendIn):
    return _act(request, case_id, "extend",
                lambda case: workflow.extend_deadline(request.user, case, days=payload.days, reason=payload.reason))


@actions.post("/{case_id}/actions/reply", summary="答复(第32、34条)", **ACTION)
def action_reply(request, case_id: s.Id, payload: s.ReplyIn):
    p = payload
    return _act(request, case_id, "reply", lambda case: workflow.reply_case(
        request.user, case, outcome=p.outcome, opinion=p.opinion, facts=p.facts, basis=p.basis,
        delivered_on=p.delivered_on, report=p.report))


@actions.post("/{case_id}/actions/evaluate", summary="满意度评价", **ACTION)
def action_evaluate(request, case_id: s.Id, payload: s.EvaluateIn):
    return _act(request, case_id, "evaluate", lambda case: workflow.evaluate_case(
        request.user, case, organ_satisfaction=payload.organ_satisfaction, bureau_satisfaction=payload.bureau_satisfaction))


@actions.post("/{case_id}/actions/request_review", summary="登记复查申请(第35条)", **ACTION)
def action_request_review(request, case_id: s.Id, payload: s.RequestReviewIn):
    return _act(request, case_id, "request_review", lambda case: workflow.request_review(
        request.user, case, reason=payload.reason, requested_on=payload.requested_on))


@actions.post("/{case_id}/actions/review", summary="出具复查意见(第35条)", **ACTION)
def action_review(request, case_id: s.Id, payload: s.ReviewIn):
    return _act(request, case_id, "review", lambda case: workflow.issue_review_opinion(
        request.user, case, outcome=payload.outcome, opinion=payload.opinion))


@actions.post("/{case_id}/actions/request_re_review", summary="登记复核申请(第36条)", **ACTION)
def action_request_re_review(request, case_id: s.Id, payload: s.RequestReviewIn):
    return _act(request, case_id, "request_re_review", lambda case: workflow.request_re_review(
        request.user, case, reason=payload.reason, requested_on=payload.requested_on))


@actions.post("/{case_id}/actions/hearing", summary="复核听证(第36条)", **ACTION)
def action_hearing(request, case_id: s.Id, payload: s.HearingIn):
    return _act(request, case_id, "hearing",
                lambda case: workflow.record_hearing(request.user, case, days=payload.days, note=payload.note))


@actions.post("/{case_id}/actions/re_review", summary="出具复核意见(第36条)", **ACTION)
def action_re_review(request, case_id: s.Id, payload: s.ReviewIn):
    return _act(request, case_id, "re_review", lambda case: workflow.issue_re_review_opinion(
        request.user, case, outcome=payload.outcome, opinion=payload.opinion))


@actions.post("/{case_id}/actions/close", summary="办结归档(第35、36条)", **ACTION)
def action_close(request, case_id: s.Id):
    return _act(request, case_id, "close", lambda case: workflow.close_case(request.user, case))


# --------------------------------------------------------------------------- evaluations

evaluations = Router(tags=["满意度评价"])


class EvaluationFilters(s.Schema):
    handling_organ_id: Optional[s.Id] = None
    satisfaction: Optional[s.SatisfactionCode] = s.Field(None, description="对承办机关的评价")
    limit: s.Annotated[int, s.Field(ge=1, le=MAX_PAGE)] = 50
    offset: s.Annotated[int, s.Field(ge=0, le=10_000_000)] = 0


@evaluations.get("", response=s.EvaluationPage, summary="满意度评价列表")
def list_evaluations(request, filters: Query[EvaluationFilters]):
    """Evaluated cases the token's user may see, latest evaluation first."""
    f = filters
    qs = cases_visible_to(request.user).exclude(satisfaction_organ="")
    if f.handling_organ_id is not None:
        qs = qs.filter(handling_organ_id=f.handling_organ_id)
    if f.satisfaction is not None:
        qs = qs.filter(satisfaction_organ=f.satisfaction)
    qs = qs.annotate(evaluated_at=Max("events__at", filter=Q(events__action="evaluate")))
    count = qs.count()
    page = qs.order_by("-evaluated_at", "-pk")[f.offset:f.offset + f.limit]
    return {"count": count, "limit": f.limit, "offset": f.offset,
            "items": [_evaluation(c, c.evaluated_at) for c in page]}


api.add_router("/organs", organs)
api.add_router("/topics", topics)
api.add_router("/cases", cases)
api.add_router("/cases", actions)
api.add_router("/evaluations", evaluations)
