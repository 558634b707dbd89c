"""Issuing a document: take the next number for (organ, kind, year) and store the record."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from .models import NUMBER_MARKS, DocKind, Document, DocumentCounter


def zh(label) -> str:
    """A choice label in the official language, whatever language the acting user chose:
    documents are always written in Chinese."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(label)


def letter_recipients(case) -> list:
    """Who a petitioner's letter goes to: the representatives of a group, else every petitioner."""
    people = list(case.petitioners.all())
    return [p for p in people if p.is_representative] or people


def issue_document(case, kind: str, organ, actor, *, event=None, addressee: str = "", for_petitioner: bool = True,
                   **fields) -> Document:
    """Create the numbered record of a document inside the caller's transaction.

    Numbers run per organ, kind and year without gaps: 〔year〕 + the organ's short name + a mark
    for the kind, e.g. 江信受〔2026〕12号. A letter to the petitioner records its recipients and
    their delivery addresses as they are when it is issued, so a later edit of the petitioner's
    details does not change a document already sent.
    """
    if for_petitioner and not addressee:
        people = letter_recipients(case)
        addressee = "、".join(p.name for p in people)
        fields.setdefault("delivery_addresses", [
            f"{p.name} {p.address}" if len(people) > 1 else p.address for p in people if p.address])
    year = timezone.localdate().year
    with transaction.atomic():
        counter, _ = DocumentCounter.objects.select_for_update().get_or_create(organ=organ, kind=kind, year=year)
        DocumentCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
        counter.refresh_from_db(fields=["last"])
        seq = counter.last
        number = f"{organ.short_name}{NUMBER_MARKS[DocKind(kind)]}〔{year}〕{seq}号"
        return Document.objects.create(
            case=case, event=event, kind=kind, organ=organ, year=year, seq=seq, number=number,
            title=zh(DocKind(kind).label), addressee=addressee, fields=fields, issued_by=actor,
            for_petitioner=for_petitioner,
        )
