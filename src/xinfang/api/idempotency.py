"""Idempotency-Key for creates (draft-ietf-httpapi-idempotency-key-header).

The same token sending the same key with the same request gets the stored response again
(`Idempotent-Replayed: true`) and no second case; the same key with a different request is
refused with 422. The record is written in the creating transaction, so two concurrent retries
cannot both create: the second one's insert fails on the unique (token, key) pair, its case is
rolled back, and it answers with the first one's response.
"""
from __future__ import annotations

import hashlib
import json
from typing import Callable

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _

from .models import IdempotencyRecord
from .problems import Problem

HEADER = "Idempotency-Key"
MAX_KEY = 200


def fingerprint(request, body: bytes | None = None) -> str:
    """The method, the path and the body (JSON canonicalised, so key order and spacing do not
    matter; a form body is sorted by field)."""
    content_type = (request.content_type or "").lower()
    if "form" in content_type:
        # Form bodies (Open311) are read through request.POST: the raw stream is gone by now.
        canonical = json.dumps(sorted((k, request.POST.getlist(k)) for k in request.POST if k != "api_key"),
                               ensure_ascii=False).encode()
    else:
        canonical = request.body if body is None else body
        if canonical and "json" in content_type:
            try:
                canonical = json.dumps(json.loads(canonical), sort_keys=True, ensure_ascii=False).encode()
            except (ValueError, UnicodeDecodeError):
                pass
    h = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), canonical):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def idempotency_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise Problem(422, _("Idempotency-Key 应为1至200个可见字符。"), errors=[{"field": HEADER, "detail": _("取值无效。")}])
    return key


def _replay(record: IdempotencyRecord, fp: str, render: Callable[[int, dict], HttpResponse]) -> HttpResponse:
    if record.fingerprint != fp:
        raise Problem(422, _("该 Idempotency-Key 已用于另一个不同的请求,请为新的请求使用新的键。"),
                      slug="idempotency-key-reused", errors=[{"field": HEADER, "detail": _("键已被其他请求使用。")}])
    response = render(record.status, record.body)
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotent(request, token, create: Callable[[], tuple[int, object]],
                   render: Callable[[int, object], HttpResponse]) -> HttpResponse:
    """Run `create` (returning (status, JSON-able body)) at most once per (token, key)."""
    key = idempotency_key(request)
    if key is None:
        return render(*create())
    fp = fingerprint(request)
    existing = IdempotencyRecord.objects.filter(token=token, key=key).first()
    if existing is not None:
        return _replay(existing, fp, render)
    try:
        with transaction.atomic():
            status, body = create()
            IdempotencyRecord.objects.create(token=token, key=key, fingerprint=fp, status=status, body=body)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(token=token, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fp, render)
    return render(status, body)
