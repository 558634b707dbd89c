"""Exporting cases as a ledger (台账), in the format import reads, plus the system's judgements.

Exports stream: case ids are walked in pages of `CHUNK` (keyset pagination, newest first, the
order of the case list), each page loaded with its petitioners, replies, ledger numbers and
judgements in a few queries, and written out. Only cases the user may see are exported
(`cases_visible_to`), and personal data is masked where the case page would mask it: full ID
number and phone only for the organ that holds the case or registered it (PIPL, REGULATION §8).
The reporter of a 检举控告 case is never exported to the accused organ or an organ under it
(Art.30 ¶3). Cells that a spreadsheet would run as a formula are neutralised (CSV injection).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases.access import cases_visible_to
from xinfang.cases.models import Case, Category, Event, Petitioner
from xinfang.cases.validators import mask_id_number, mask_phone

from .columns import COLUMNS, EXPORT_EXTRA
from .models import LedgerRow

CHUNK = 1000
HEADERS = [c.zh for c in COLUMNS + EXPORT_EXTRA]
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

try:  # duplicate detection (app dedup) may not be installed in this deployment yet
    from xinfang.dedup.service import export_judgements
except ImportError:  # pragma: no cover - depends on the other app
    export_judgements = None
try:
    from xinfang.suggest.service import export_suggestions
except ImportError:  # pragma: no cover
    export_suggestions = None


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection);
    import removes it again, so a round trip keeps the text."""
    return "'" + value if value and value[0] in _DANGEROUS else value


def _judgements(ids: list[int]) -> tuple[dict, dict]:
    dup = export_judgements(ids) if export_judgements else {}
    sug = export_suggestions(ids) if export_suggestions else {}
    return dup or {}, sug or {}


def export_queryset(user, qs=None):
    """The cases `user` may export (all cases for the system itself, user None)."""
    if user is None:
        return qs if qs is not None else Case.objects.all()
    visible = cases_visible_to(user)
    return visible if qs is None else qs.filter(pk__in=visible.values("pk"))


def _pages(qs) -> Iterator[list[Case]]:
    qs = qs.order_by("-received_at", "-pk").select_related("region", "topic", "topic__parent", "handling_organ",
                                                           "current_organ", "bureau")
    last = None
    while True:
        page = qs if last is None else qs.filter(Q(received_at__lt=last[0]) | Q(received_at=last[0], pk__lt=last[1]))
        cases = list(page[:CHUNK])
        if not cases:
            return
        yield cases
        last = (cases[-1].received_at, cases[-1].pk)


def _ancestors(organ) -> set[int]:
    out, o = set(), organ
    while o is not None:
        out.add(o.pk)
        o = o.parent
    return out


def _fmt_dt(value) -> str:
    if not value:
        return ""
    local = timezone.localtime(value)
    return local.strftime("%Y-%m-%d %H:%M")


def iter_rows(user, qs=None) -> Iterator[list[str]]:
    """The header, then one list of cells per case (strings, formula-neutralised)."""
    yield HEADERS
    superuser = user is None or user.is_superuser
    organ_id = getattr(user, "organ_id", None)
    my_line = _ancestors(user.organ) if user is not None and user.organ_id else set()
    for cases in _pages(export_queryset(user, qs)):
        ids = [c.pk for c in cases]
        people: dict[int, Petitioner] = {}
        for p in Petitioner.objects.filter(case_id__in=ids).order_by("case_id", "-order", "-pk"):
            people[p.case_id] = p  # the first petitioner (lowest order) wins
        counts: dict[int, int] = {}
        for p_case in Petitioner.objects.filter(case_id__in=ids).values_list("case_id", flat=True):
            counts[p_case] = counts.get(p_case, 0) + 1
        replies = dict(Event.objects.filter(case_id__in=ids, action="reply").order_by("case_id", "at", "pk")
                       .values_list("case_id", "note"))
        sources = dict(LedgerRow.objects.filter(case_id__in=ids).values_list("case_id", "source_no"))
        dup, sug = _judgements(ids)
        for case in cases:
            p = people.get(case.pk)
            name = id_number = phone = ""
            if p is not None:
                name, id_number, phone = p.name, p.id_number, p.phone
                reveal = superuser or organ_id in (case.current_organ_id, case.bureau_id)
                if case.category == Category.REPORT and case.accused_organ_id and case.accused_organ_id in my_line:
                    name = id_number = phone = ""  # Art.30 ¶3: never to the accused organ
                elif not reveal:
                    id_number, phone = mask_id_number(id_number), mask_phone(phone)
                    if case.category == Category.REPORT:
                        name = name[:1] + "*" * max(1, len(name) - 1)  # the reporter is kept confidential
            topic = case.topic
            topic_name = f"{topic.parent.name}›{topic.name}" if topic and topic.parent_id else (topic.name if topic else "")
            organ = case.handling_organ or (case.current_organ if case.current_organ_id != case.bureau_id else None)
            earlier, score = dup.get(case.pk, ("", None))
            s = sug.get(case.pk, {})
            conf = s.get("topic_confidence")
            cells = [
                sources.get(case.pk, case.number), _fmt_dt(case.received_at), str(case.get_channel_display()), name,
                id_number, phone, str(case.head_count), case.region.name if case.region_id else "", case.title,
                case.content, str(case.get_category_display()), topic_name, organ.name if organ else "",
                case.state_label, _fmt_dt(case.replied_at), replies.get(case.pk, ""),
                str(case.get_satisfaction_organ_display()) if case.satisfaction_organ else "",
                case.number, earlier or "", f"{score:.3f}" if score is not None else "",
                s.get("category_suggested", "") or "", s.get("topic_suggested", "") or "",
                f"{conf:.3f}" if conf is not None else "", s.get("organ_suggested", "") or "",
            ]
            yield [neutralise(str(c)) for c in cells]


class _Echo:
    def write(self, value):
        return value


def csv_chunks(user, qs=None) -> Iterator[str]:
    """CSV text for a StreamingHttpResponse: UTF-8 with BOM (Excel on Chinese Windows opens it
    correctly), one chunk per row."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in iter_rows(user, qs):
        yield writer.writerow(row)


def write_csv(path_or_file, user, qs=None) -> int:
    """Write the export to a path; returns the number of cases."""
    n = -1
    with open(path_or_file, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        for row in iter_rows(user, qs):
            writer.writerow(row)
            n += 1
    return n


def write_xlsx(target, user, qs=None) -> int:
    """Write an XLSX workbook (openpyxl write_only: rows go to disk as they come)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("台账"))
    n = -1
    for row in iter_rows(user, qs):
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in row])
        n += 1
    wb.save(target)
    return n


def xlsx_bytes(user, qs=None) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, user, qs)
    return buf.getvalue()
