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
from xinfang.cases.models import Case, Category, Channel, Closure, Event, Petitioner, Satisfaction, State
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


_FIELDS = ["pk", "number", "received_at", "channel", "category", "state", "closure", "head_count", "title", "content",
           "region_id", "topic_id", "handling_organ_id", "current_organ_id", "bureau_id", "accused_organ_id",
           "replied_at", "satisfaction_organ"]


class _Row:
    """A case's exported fields (plain values: building model instances would dominate the cost)."""

    __slots__ = _FIELDS

    def __init__(self, values):
        for k, v in zip(_FIELDS, values):
            setattr(self, k, v)


def _pages(qs) -> Iterator[list[_Row]]:
    qs = qs.order_by("-received_at", "-pk").values_list(*_FIELDS)
    last = None
    while True:
        page = qs if last is None else qs.filter(Q(received_at__lt=last[0]) | Q(received_at=last[0], pk__lt=last[1]))
        cases = [_Row(v) for v in page[:CHUNK]]
        if not cases:
            return
        yield cases
        last = (cases[-1].received_at, cases[-1].pk)


class _Names:
    """Names of regions, topics (with their parent) and organs, fetched once per id."""

    def __init__(self):
        self.region, self.topic, self.organ = {}, {}, {}

    def load(self, cases) -> None:
        from xinfang.cases.models import Topic
        from xinfang.orgs.models import Organ, Region

        want = {c.region_id for c in cases} - self.region.keys() - {None}
        self.region.update(Region.objects.filter(pk__in=want).values_list("pk", "name"))
        want = {c.topic_id for c in cases} - self.topic.keys() - {None}
        for pk, name, parent in Topic.objects.filter(pk__in=want).values_list("pk", "name", "parent__name"):
            self.topic[pk] = f"{parent}›{name}" if parent else name
        want = {i for c in cases for i in (c.handling_organ_id, c.current_organ_id)} - self.organ.keys() - {None}
        self.organ.update(Organ.objects.filter(pk__in=want).values_list("pk", "name"))


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


def _labels(choices) -> dict[str, str]:
    # Resolved once per export: get_FOO_display() hashes lazy labels on every call.
    return {value: str(label) for value, label in choices.choices}


def iter_rows(user, qs=None) -> Iterator[list[str]]:
    """The header, then one list of cells per case (strings, formula-neutralised)."""
    yield HEADERS
    channels, categories, states = _labels(Channel), _labels(Category), _labels(State)
    closures, satisfactions = _labels(Closure), _labels(Satisfaction)
    superuser = user is None or user.is_superuser
    organ_id = getattr(user, "organ_id", None)
    my_line = _ancestors(user.organ) if user is not None and user.organ_id else set()
    names = _Names()
    for cases in _pages(export_queryset(user, qs)):
        ids = [c.pk for c in cases]
        names.load(cases)
        people: dict[int, tuple] = {}
        for p in (Petitioner.objects.filter(case_id__in=ids).order_by("case_id", "-order", "-pk")
                  .values_list("case_id", "name", "id_number", "phone")):
            people[p[0]] = p[1:]  # the first petitioner (lowest order) wins
        replies = dict(Event.objects.filter(case_id__in=ids, action="reply").order_by("case_id", "at", "pk")
                       .values_list("case_id", "note"))
        sources = dict(LedgerRow.objects.filter(case_id__in=ids).values_list("case_id", "source_no"))
        dup, sug = _judgements(ids)
        for case in cases:
            p = people.get(case.pk)
            name = id_number = phone = ""
            if p is not None:
                name, id_number, phone = p
                reveal = superuser or organ_id in (case.current_organ_id, case.bureau_id)
                if case.category == Category.REPORT and case.accused_organ_id and case.accused_organ_id in my_line:
                    name = id_number = phone = ""  # Art.30 ¶3: never to the accused organ
                elif not reveal:
                    id_number, phone = mask_id_number(id_number), mask_phone(phone)
                    if case.category == Category.REPORT:
                        name = name[:1] + "*" * max(1, len(name) - 1)  # the reporter is kept confidential
            organ_id_ = case.handling_organ_id or (case.current_organ_id if case.current_organ_id != case.bureau_id else None)
            earlier, score = dup.get(case.pk, ("", None))
            s = sug.get(case.pk, {})
            conf = s.get("topic_confidence")
            state = states.get(case.state, case.state)
            if case.state == State.CLOSED and case.closure:  # Case.state_label
                state = f"{state}({closures.get(case.closure, case.closure)})"
            cells = [
                sources.get(case.pk, case.number), _fmt_dt(case.received_at), channels.get(case.channel, case.channel), name,
                id_number, phone, str(case.head_count), names.region.get(case.region_id, ""), case.title,
                case.content, categories.get(case.category, case.category), names.topic.get(case.topic_id, ""),
                names.organ.get(organ_id_, ""),
                state, _fmt_dt(case.replied_at), replies.get(case.pk, ""),
                satisfactions.get(case.satisfaction_organ, ""),
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
