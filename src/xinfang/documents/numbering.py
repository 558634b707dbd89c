"""Issuing a document: take the next number for (organ, kind, year) and store the record."""
from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import NUMBER_MARKS, DocKind, Document, DocumentCounter


def issue_document(case, kind: str, organ, actor, *, event=None, addressee: str = "", for_petitioner: bool = True,
                   **fields) -> Document:
    """Create the numbered record of a document inside the caller's transaction.

    Numbers run per organ, kind and year without gaps: 〔year〕 + the organ's short name + a mark
    for the kind, e.g. 江信受〔2026〕12号.
    """
    year = timezone.localdate().year
    with transaction.atomic():
        counter, _ = DocumentCounter.objects.select_for_update().get_or_create(organ=organ, kind=kind, year=year)
        DocumentCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        counter.refresh_from_db(fields=["last"])
        seq = counter.last
        number = f"{organ.short_name}{NUMBER_MARKS[DocKind(kind)]}〔{year}〕{seq}号"
        return Document.objects.create(
            case=case, event=event, kind=kind, organ=organ, year=year, seq=seq, number=number,
            title=str(DocKind(kind).label), addressee=addressee, fields=fields, issued_by=actor,
            for_petitioner=for_petitioner,
        )
