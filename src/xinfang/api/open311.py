"""Open311 GeoReport v2 adapter (http://wiki.open311.org/GeoReport_v2): services are the topic
tree (问题分类), service requests are cases.

Civic tools that speak Open311 can list services, file a request (a case registered through
`workflow.register_case(..., source="api")` as the API key's user) and read requests back. JSON
only. Differences from a public Open311 endpoint, because petitions are confidential: reading
requests needs an api_key too, and a key sees exactly the cases its user sees
(`cases_visible_to`). The field mapping is in docs/api.md.
"""
from __future__ import annotations

import datetime as dt
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from xinfang.cases import workflow
from xinfang.cases.access import WorkflowError, cases_visible_to
from xinfang.cases.models import OPEN_STATES, Case, Category, Channel, Topic
from xinfang.cases.workflow import RegistrationError

from .auth import attach, token_for
from .idempotency import run_idempotent
from .problems import Problem

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
DEFAULT_DAYS = 90  # GeoReport v2: without dates, the last 90 days
TITLE_CHARS = 30


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        self.status, self.description = status, str(description)


def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")


def _error(status: int, description: str) -> HttpResponse:
    """GeoReport v2 errors: an array of {code, description}."""
    return _json([{"code": status, "description": str(description)}], status)


def _w3c(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return dt.datetime.combine(value, dt.time(23, 59, 59), timezone.get_current_timezone()).isoformat()


def _clean(value: str, limit: int) -> str:
    value = (value or "").strip()
    if "\x00" in value or len(value) > limit:
        raise Open311Error(400, _("参数过长或含有非法字符。"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Open311Error(400, _("参数含有非法字符。")) from None
    return value


def endpoint(view):
    """Errors as GeoReport v2 error arrays; `auth=True` requires a valid api_key (or Bearer)."""
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Open311Error as exc:
            return _error(exc.status, exc.description)
        except Problem as exc:
            return _error(exc.status, exc.detail)
        except RegistrationError as exc:
            return _error(400, exc.message)
        except WorkflowError as exc:
            return _error(403 if not exc.field else 400, exc.message)
    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return csrf_exempt(wrapper)


def _authenticate(request):
    raw = request.POST.get("api_key") if request.method == "POST" else None
    raw = raw or request.GET.get("api_key")
    header = request.headers.get("Authorization", "")
    if not raw and header.lower().startswith("bearer "):
        raw = header[7:]
    if not raw:
        raise Open311Error(401, _("缺少 api_key(接口令牌)。"))
    token = token_for(raw)
    if token is None:
        raise Open311Error(403, _("api_key 无效、已过期或已被吊销。"))
    attach(request, token)
    return token


def _is_code(value: str) -> bool:
    """A service code is a topic id: ASCII digits only ("²".isdigit() is true, int("²") fails)."""
    return value.isascii() and value.isdigit() and len(value) < 16


def _active_topic(code: str) -> Topic | None:
    return Topic.objects.filter(is_active=True, pk=int(code)).first() if _is_code(code) else None


def _service(topic: Topic) -> dict:
    return {"service_code": str(topic.pk), "service_name": str(topic), "description": topic.name,
            "metadata": True, "type": "realtime", "keywords": "",
            "group": topic.parent.name if topic.parent_id else topic.name}


def _request_dict(case: Case) -> dict:
    organ = case.handling_organ or case.current_organ
    return {
        "service_request_id": case.number,
        "status": "open" if case.state in OPEN_STATES else "closed",
        "status_notes": str(case.state_label),
        "service_name": str(case.topic) if case.topic_id else "",
        "service_code": str(case.topic_id) if case.topic_id else "",
        "description": case.content,
        "agency_responsible": organ.name if organ else "",
        "service_notice": "",
        "requested_datetime": _w3c(case.received_at),
        "updated_datetime": _w3c(case.updated_at),
        "expected_datetime": _w3c(case.due_on),
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": None,
        "long": None,
        "media_url": "",
    }


# Attributes of every service (GeoReport "service definition"); attribute[code]=value in a POST.
ATTRIBUTES = [
    {"variable": True, "code": "category", "datatype": "singlevaluelist", "required": False, "order": 1,
     "datatype_description": "", "description": "信访类别(缺省为申诉求决类)",
     "values": [{"key": c.value, "name": str(c.label)} for c in Category]},
    {"variable": True, "code": "title", "datatype": "string", "required": False, "order": 2,
     "datatype_description": "", "description": "标题(缺省取描述的前30个字)"},
    {"variable": True, "code": "id_number", "datatype": "string", "required": False, "order": 3,
     "datatype_description": "18位居民身份证号码", "description": "信访人身份证号码"},
]


@endpoint
@require_GET
def discovery(request):
    base = request.build_absolute_uri(reverse("open311-services"))[: -len("services.json")]
    changed = _w3c(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0))
    return _json({"changeset": changed, "contact": _("请联系本级信访部门的系统管理员。"), "key_service": _("接口令牌由管理员在后台“接口令牌”或用 xinfang token create 创建。"),
                  "endpoints": [{"specification": SPEC, "url": base, "changeset": changed, "type": "production",
                                 "formats": ["application/json"]}]})


@endpoint
@require_GET
def services(request):
    """The active topics as services (public: the topic tree holds no personal data)."""
    topics = Topic.objects.filter(is_active=True).select_related("parent").order_by("parent_id", "sort", "name")
    return _json([_service(t) for t in topics])


@endpoint
@require_GET
def service_definition(request, code: str):
    topic = _active_topic(code)
    if topic is None:
        raise Open311Error(404, _("服务(问题分类)不存在。"))
    return _json({"service_code": str(topic.pk), "attributes": ATTRIBUTES})


def _when(request, name: str) -> dt.datetime | None:
    raw = _clean(request.GET.get(name, ""), 40)
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or not 1900 <= value.year <= 2100:
        raise Open311Error(400, _("%(name)s 应为 W3C 日期时间,如 2026-06-01T09:00:00+08:00。") % {"name": name})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _list_requests(request) -> HttpResponse:
    _authenticate(request)
    qs = cases_visible_to(request.user).select_related("topic", "topic__parent", "current_organ", "handling_organ")
    ids = _clean(request.GET.get("service_request_id", ""), 4000)
    if ids:
        qs = qs.filter(number__in=[i.strip() for i in ids.split(",") if i.strip()][:MAX_RESULTS])
    else:
        codes = _clean(request.GET.get("service_code", ""), 4000)
        if codes:
            parts = [c.strip() for c in codes.split(",") if c.strip()]
            if not all(_is_code(c) for c in parts):
                raise Open311Error(400, _("service_code 应为服务代码(数字),多个以逗号分隔。"))
            qs = qs.filter(topic_id__in=[int(c) for c in parts])
        start, end = _when(request, "start_date"), _when(request, "end_date")
        if start is None and end is None:
            start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        if start:
            qs = qs.filter(received_at__gte=start)
        if end:
            qs = qs.filter(received_at__lte=end)
        status = _clean(request.GET.get("status", ""), 20)
        if status:
            wanted = {s.strip() for s in status.split(",") if s.strip()}
            if not wanted <= {"open", "closed"}:
                raise Open311Error(400, _("status 只能是 open 或 closed。"))
            if wanted == {"open"}:
                qs = qs.filter(state__in=OPEN_STATES)
            elif wanted == {"closed"}:
                qs = qs.exclude(state__in=OPEN_STATES)
    return _json([_request_dict(c) for c in qs.order_by("-received_at", "-pk")[:MAX_RESULTS]])


def _create_request(request) -> HttpResponse:
    """File a service request: register a case as the key's user (a registrar)."""
    token = _authenticate(request)
    post = request.POST
    code = _clean(post.get("service_code", ""), 15)
    topic = _active_topic(code)
    if topic is None:
        raise Open311Error(400, _("service_code 缺失或不是有效的服务代码(问题分类)。"))
    description = _clean(post.get("description", ""), workflow.MAX_CONTENT - 400)
    if not description:
        raise Open311Error(400, _("请填写 description(信访内容)。"))
    # Chinese names put the family name first.
    name = _clean(post.get("last_name", ""), 25) + _clean(post.get("first_name", ""), 25)
    if not name:
        raise Open311Error(400, _("请填写 first_name / last_name(信访人姓名):信访事项须实名提出(条例第17条)。"))
    category = _clean(post.get("attribute[category]", ""), 20) or Category.CLAIM
    if category not in Category.values:
        raise Open311Error(400, _("attribute[category] 只能是 suggestion、report 或 claim。"))
    title = _clean(post.get("attribute[title]", ""), 200) or description[:TITLE_CHARS]
    extra = []
    address = _clean(post.get("address_string", ""), 200)
    if address:
        extra.append(_("问题地点:%(a)s") % {"a": address})
    lat, lon = _clean(post.get("lat", ""), 20), _clean(post.get("long", ""), 20)
    if lat or lon:
        try:
            lat_f, lon_f = float(lat), float(lon)
        except ValueError:
            raise Open311Error(400, _("lat / long 应为数字坐标。")) from None
        if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
            raise Open311Error(400, _("lat / long 超出范围。"))
        extra.append(_("坐标:%(lat)s,%(lon)s") % {"lat": lat_f, "lon": lon_f})
    media = _clean(post.get("media_url", ""), 300)
    if media:
        extra.append(_("材料链接:%(url)s") % {"url": media})
    content = description + ("\n\n" + "\n".join(extra) if extra else "")
    petitioner = workflow.PetitionerData(name=name, id_number=_clean(post.get("attribute[id_number]", ""), 18),
                                         phone=_clean(post.get("phone", ""), 20))
    data = {"channel": Channel.ONLINE, "received_at": timezone.now(), "title": title, "content": content,
            "category": category, "topic": topic, "head_count": 1}

    def create():
        case = workflow.register_case(request.user, data, [petitioner], source="api")
        notice = _("已登记,信访事项编号%(number)s。") % {"number": case.number}
        return 201, [{"service_request_id": case.number, "service_notice": notice, "account_id": None}]

    return run_idempotent(request, token, create, lambda status, body: _json(body, status))


@endpoint
@require_http_methods(["GET", "POST"])
def requests_view(request):
    if request.method == "POST":
        return _create_request(request)
    return _list_requests(request)


@endpoint
@require_GET
def request_detail(request, number: str):
    _authenticate(request)
    number = _clean(number, 40)
    case = (cases_visible_to(request.user).select_related("topic", "topic__parent", "current_organ", "handling_organ")
            .filter(number=number).first())
    if case is None:
        raise Open311Error(404, _("服务请求不存在或无权查看。"))
    return _json([_request_dict(case)])


def include():
    return ([
        path("discovery.json", discovery, name="open311-discovery"),
        path("services.json", services, name="open311-services"),
        path("services/<str:code>.json", service_definition, name="open311-service"),
        path("requests.json", requests_view, name="open311-requests"),
        path("requests/<str:number>.json", request_detail, name="open311-request"),
    ], None, None)
