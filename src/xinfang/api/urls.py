"""The open API: REST v1 (django-ninja) and the Open311 GeoReport v2 adapter.

Mounted at /api/ by the root urls. Method-not-allowed and unknown paths under /api/ answer with
problem documents too, so a caller never has to parse an HTML error page.
"""
from functools import wraps

from django.urls import path, re_path
from django.utils.translation import gettext as _

from . import open311
from .problems import problem_response
from .v1 import api


def _problem_405(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/problem"):
            return problem_response(request, 405, _("该地址不支持 %(method)s 请求。") % {"method": request.method},
                                    headers={"Allow": response.get("Allow", "")})
        return response
    wrapper.csrf_exempt = True
    return wrapper


def _v1_patterns():
    patterns, _app_name, namespace = api.urls
    for p in patterns:
        p.callback = _problem_405(p.callback)
    return patterns, _app_name, namespace


def not_found(request, rest=""):
    return problem_response(request, 404, _("接口地址不存在,请查阅 /api/v1/docs。"))


not_found.csrf_exempt = True

urlpatterns = [
    path("v1/", _v1_patterns()),
    path("open311/v2/", open311.include()),
    re_path(r"^(?P<rest>.*)$", not_found),
]
