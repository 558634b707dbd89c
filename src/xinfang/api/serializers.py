"""Turning cases, events, documents, organs and topics into API dictionaries.

Petitioners are masked unless `revealed` (the caller asked and may see them; views.py decides and
audits). Shapes match schemas.py; `case_detail` output is validated through the schema so a
replayed Idempotency-Key response is exactly what the first call returned.
"""
from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from xinfang.cases.access import allowed_transitions
from xinfang.cases.models import Case
from xinfang.cases.validators import mask_id_number, mask_phone
from xinfang.handling.views import mask_address

from . import schemas


def _t(value):
    """Datetimes in the deployment's zone (+08:00), as staff read them on the workbench."""
    return timezone.localtime(value) if value is not None else None


def organ_dict(o) -> dict:
    return {"id": o.pk, "name": o.name, "short_name": o.short_name, "code": o.code, "level": o.level, "kind": o.kind,
            "kind_label": str(o.get_kind_display()), "parent_id": o.parent_id, "region": o.region.name, "is_active": o.is_active}


def topic_dict(t) -> dict:
    return {"id": t.pk, "name": t.name, "full_name": str(t), "parent_id": t.parent_id, "is_active": t.is_active}


def case_summary(c: Case) -> dict:
    return {
        "id": c.pk, "number": c.number, "title": c.title, "state": c.state, "state_label": str(c.state_label),
        "closure": c.closure, "category": c.category, "category_label": str(c.get_category_display()),
        "channel": c.channel, "received_at": _t(c.received_at), "registered_at": _t(c.registered_at), "bureau_id": c.bureau_id,
        "current_organ_id": c.current_organ_id, "current_organ": c.current_organ.name,
        "handling_organ_id": c.handling_organ_id, "topic_id": c.topic_id, "due_on": c.due_on,
        "grade": c.grade, "replied_at": _t(c.replied_at), "closed_at": _t(c.closed_at), "updated_at": _t(c.updated_at),
    }


def petitioner_dicts(case: Case, revealed: bool) -> list[dict]:
    return [{
        "name": p.name,
        "id_number": p.id_number if revealed else mask_id_number(p.id_number),
        "phone": p.phone if revealed else mask_phone(p.phone),
        "address": p.address if revealed else mask_address(p.address),
        "is_representative": p.is_representative,
    } for p in case.petitioners.all()]


def case_detail(c: Case, user, *, revealed: bool = False) -> dict:
    data = case_summary(c)
    data.update({
        "content": c.content, "head_count": c.head_count, "region_code": c.region.code if c.region_id else None,
        "skip_level": c.skip_level, "group_visit": c.group_visit, "major_urgent": c.major_urgent,
        "law_related": c.law_related, "accused_organ_id": c.accused_organ_id, "related_case_id": c.related_case_id,
        "same_facts": c.same_facts, "route_kind": c.route_kind, "handling_route": c.handling_route, "outcome": c.outcome,
        "review_outcome": c.review_outcome, "assigned_due": c.assigned_due, "extended": c.extended,
        "delivered_on": c.delivered_on, "satisfaction_organ": c.satisfaction_organ,
        "satisfaction_bureau": c.satisfaction_bureau, "petitioners": petitioner_dicts(c, revealed),
        "petitioners_revealed": revealed, "allowed_actions": allowed_transitions(user, c),
    })
    return schemas.CaseDetail(**data).model_dump(mode="json")


def event_dict(e) -> dict:
    return {"id": e.pk, "action": e.action, "label": e.label, "at": _t(e.at),
            "actor": (e.actor.full_name or e.actor.username) if e.actor_id else "",
            "organ_id": e.organ_id, "organ": e.organ.name if e.organ_id else "", "target_organ_id": e.target_organ_id,
            "from_state": e.from_state, "to_state": e.to_state, "note": e.note}


def document_dict(d) -> dict:
    urls = {fmt: reverse("api-v1:document_download", kwargs={"case_id": d.case_id, "doc_id": d.pk, "fmt": fmt})
            for fmt in ("docx", "pdf")}
    return {"id": d.pk, "number": d.number, "title": d.title, "kind": d.kind, "kind_label": str(d.get_kind_display()),
            "organ_id": d.organ_id, "organ": d.organ.name, "issued_at": _t(d.issued_at), "for_petitioner": d.for_petitioner,
            "docx_url": urls["docx"], "pdf_url": urls["pdf"]}
