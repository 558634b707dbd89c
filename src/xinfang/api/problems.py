"""Errors as RFC 9457 problem details (application/problem+json), with Chinese messages.

Every error the API returns has the same shape::

    {"type": "urn:xinfang:problem:validation", "title": "请求参数有误", "status": 422,
     "detail": "…", "instance": "/api/v1/cases", "errors": [{"field": "title", "detail": "…"}]}

`errors` appears only when individual fields are wrong. Nothing in here ever answers 500 for bad
input: unknown exceptions are left to Django (a real server fault must stay visible).
"""
from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

PROBLEM_TYPE = "application/problem+json"

# (slug, title) per status; the slug makes the `type` URI.
_STATUS = {
    400: ("bad-request", gettext_lazy("请求格式有误")),
    401: ("unauthenticated", gettext_lazy("未认证")),
    403: ("forbidden", gettext_lazy("无权进行该操作")),
    404: ("not-found", gettext_lazy("资源不存在或无权查看")),
    405: ("method-not-allowed", gettext_lazy("不支持该请求方法")),
    409: ("conflict", gettext_lazy("当前状态不允许该操作")),
    422: ("validation", gettext_lazy("请求参数有误")),
    429: ("rate-limited", gettext_lazy("请求过于频繁")),
}


class Problem(Exception):
    """Raise anywhere in an API view to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, errors: list[dict] | None = None, slug: str | None = None,
                 title: str | None = None, headers: dict | None = None):
        self.status, self.detail, self.errors = status, str(detail), errors or []
        self.slug, self.title, self.headers = slug, title, headers or {}
        super().__init__(self.detail)


def problem_body(status: int, detail: str, *, instance: str = "", errors=None, slug=None, title=None) -> dict:
    default_slug, default_title = _STATUS.get(status, ("error", gettext_lazy("请求失败")))
    body = {
        "type": f"urn:xinfang:problem:{slug or default_slug}",
        "title": str(title or default_title),
        "status": status,
        "detail": str(detail),
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.get("field", ""), "detail": str(e.get("detail", ""))} for e in errors]
    return body


def problem_response(request, status: int, detail: str, *, errors=None, slug=None, title=None,
                     headers: dict | None = None) -> HttpResponse:
    body = problem_body(status, detail, instance=getattr(request, "path", ""), errors=errors, slug=slug, title=title)
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status,
                            content_type=f"{PROBLEM_TYPE}; charset=utf-8")
    for k, v in (headers or {}).items():
        response[k] = v
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="xinfang"'
    return response


def from_problem(request, exc: Problem) -> HttpResponse:
    return problem_response(request, exc.status, exc.detail, errors=exc.errors, slug=exc.slug, title=exc.title,
                            headers=exc.headers)


# pydantic error types → Chinese messages (the English ones never reach a caller).
def _pydantic_message(err: dict) -> str:
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    table = {
        "missing": _("必填项。"),
        "string_too_long": _("不能超过%(n)s个字符。") % {"n": ctx.get("max_length", "")},
        "string_too_short": _("至少%(n)s个字符。") % {"n": ctx.get("min_length", "")},
        "string_type": _("应为字符串。"),
        "int_parsing": _("应为整数。"),
        "int_type": _("应为整数。"),
        "int_from_float": _("应为整数。"),
        "float_parsing": _("应为数字。"),
        "bool_parsing": _("应为布尔值(true/false)。"),
        "bool_type": _("应为布尔值(true/false)。"),
        "greater_than_equal": _("不能小于%(n)s。") % {"n": ctx.get("ge", "")},
        "less_than_equal": _("不能大于%(n)s。") % {"n": ctx.get("le", "")},
        "greater_than": _("应大于%(n)s。") % {"n": ctx.get("gt", "")},
        "less_than": _("应小于%(n)s。") % {"n": ctx.get("lt", "")},
        "enum": _("取值无效,可选:%(choices)s。") % {"choices": ctx.get("expected", "")},
        "literal_error": _("取值无效,可选:%(choices)s。") % {"choices": ctx.get("expected", "")},
        "date_parsing": _("日期格式应为YYYY-MM-DD。"),
        "date_from_datetime_parsing": _("日期格式应为YYYY-MM-DD。"),
        "date_type": _("日期格式应为YYYY-MM-DD。"),
        "datetime_parsing": _("时间格式应为ISO 8601,如2026-06-01T09:00:00+08:00。"),
        "datetime_from_date_parsing": _("时间格式应为ISO 8601,如2026-06-01T09:00:00+08:00。"),
        "datetime_type": _("时间格式应为ISO 8601,如2026-06-01T09:00:00+08:00。"),
        "list_type": _("应为数组。"),
        "too_long": _("最多%(n)s项。") % {"n": ctx.get("max_length", "")},
        "too_short": _("至少%(n)s项。") % {"n": ctx.get("min_length", "")},
        "model_type": _("应为对象。"),
        "model_attributes_type": _("应为对象。"),
        "dict_type": _("应为对象。"),
        "extra_forbidden": _("不支持该字段。"),
        "json_invalid": _("请求内容不是有效的JSON。"),
        "value_error": _("取值无效。"),
    }
    return str(table.get(kind, _("取值无效。")))


def field_errors_from_ninja(errors: list[dict]) -> list[dict]:
    """ninja's validation errors (loc = (source, param, field…)) → [{field, detail}]."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        # Drop the source ("body", "query", "path") and ninja's name of the body parameter.
        source, rest = (loc[0], loc[1:]) if loc else ("", [])
        if source == "body" and len(rest) > 1 and rest[0] == "payload":
            rest = rest[1:]
        out.append({"field": ".".join(rest) or source, "detail": _pydantic_message(err)})
    return out
