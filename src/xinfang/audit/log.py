"""Appending to and verifying the audit chain."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import AuditEntry, AuditHead

GENESIS = "0" * 64


def append(actor, action: str, obj=None, **data) -> AuditEntry:
    """Append one entry inside the caller's transaction (the entry commits with the change)."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=getattr(actor, "username", "") or "system",
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            data=data,
            prev_hash=head.hash,
        )
        entry.hash = entry.compute_hash()
        entry.save()
        AuditHead.objects.filter(id=1).update(seq=entry.seq, hash=entry.hash)
        return entry


def verify() -> tuple[int, AuditEntry | None, str]:
    """Walk the chain. Returns (entries checked, first bad entry or None, reason)."""
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return count, entry, f"missing entry before #{entry.seq} (expected #{expected_seq})"
        if entry.prev_hash != prev:
            return count, entry, f"#{entry.seq} does not follow the previous entry"
        if entry.compute_hash() != entry.hash:
            return count, entry, f"#{entry.seq} was altered"
        prev, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    head = AuditHead.objects.filter(id=1).first()
    if head and head.seq != count:
        return count, None, f"the chain ends at #{count} but {head.seq} entries were written"
    return count, None, ""
