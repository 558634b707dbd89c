"""Writing simulated cases: bulk inserts per batch, the number counters, and removing demo data.

Case numbers are taken inside the batch's transaction from the locked CaseCounter rows (numbers
follow registration order, as `register_case` issues them). Document numbers must follow the order
in which documents were issued, across every batch of the run, so documents are first written with
a provisional sequence (from PROVISIONAL_SEQ up) and numbered at the end of the run by
`number_documents`, which orders them by issue time and continues each DocumentCounter; a run that
was interrupted is finished by the next one.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from xinfang.cases import search
from xinfang.cases.models import Attachment, Case, CaseCounter, CaseOrgan, Event, Petitioner
from xinfang.deadlines.models import Deadline
from xinfang.documents.models import NUMBER_MARKS, DocKind, Document, DocumentCounter
from xinfang.orgs.models import Organ, Region

from .simulate import CaseSim
from .world import DEMO_REGION_PREFIX, demo_user_queryset

PROVISIONAL_SEQ = 1_000_000_000
INSERT_BATCH = 500


def _pk(obj):
    return obj.pk if obj is not None else None


class Inserter:
    """Multi-row INSERTs of prepared tuples for one model (executemany on one statement).

    This is bulk_create without its per-value SQL compilation, which dominates when writing
    millions of rows: values are adapted by the database backend's own adapters for each field
    type, and any column the caller does not give gets the field's default (auto_now: now).
    Primary keys, when given, come from `reserve_ids` so related rows can point at them.
    """

    def __init__(self, model, columns: list[str]):
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        self.model, self.columns = model, columns
        self.fields = [by_name[c] for c in columns]
        self.rest = [f for f in model._meta.concrete_fields if f.attname not in columns and not f.primary_key]
        ops = connection.ops
        adapters = []
        for f in self.fields + self.rest:
            kind = f.get_internal_type()
            if kind == "DateTimeField" and connection.vendor == "sqlite":
                # What the SQLite adapter does (naive in the connection's zone), minus its lookups.
                adapters.append(lambda v, tz=connection.timezone: str(v.astimezone(tz).replace(tzinfo=None))
                                if v.tzinfo else str(v))
            elif kind == "DateTimeField":
                adapters.append(ops.adapt_datetimefield_value)
            elif kind == "DateField":
                adapters.append(ops.adapt_datefield_value)
            elif kind == "JSONField":
                adapters.append(lambda v, f=f: ops.adapt_json_value(v, f.encoder))
            elif kind in _PLAIN:
                adapters.append(None)
            else:
                adapters.append(lambda v, f=f: f.get_db_prep_save(v, connection))
        self.adapters = adapters
        qn = ops.quote_name
        names = ", ".join(qn(f.column) for f in self.fields + self.rest)
        marks = ", ".join(["%s"] * (len(self.fields) + len(self.rest)))
        self.sql = f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({marks})"
        self.copy_sql = f"COPY {qn(model._meta.db_table)} ({names}) FROM STDIN"

    def _defaults(self) -> tuple:
        now = timezone.now()
        return tuple(now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
                     for f in self.rest)

    def adapt(self, rows: list[tuple]) -> list[list]:
        """The statement parameters of `rows`: each value adapted for the database, the defaults
        appended. Values without an adapter (ids, numbers, text) are passed as they are, so a
        caller may still replace a placeholder id in them before `execute`."""
        n = len(self.fields)
        # The defaults are the same for every row: adapted once. Of the given columns only those
        # with an adapter are touched (most are plain text, numbers and ids).
        rest = tuple(v if a is None or v is None else a(v) for v, a in zip(self._defaults(), self.adapters[n:]))
        adapted = [(i, a) for i, a in enumerate(self.adapters[:n]) if a is not None]
        params = []
        for row in rows:
            values = list(row)
            for i, a in adapted:
                v = values[i]
                if v is not None:
                    values[i] = a(v)
            values += rest
            params.append(values)
        return params

    def execute(self, params: list[list], chunk: int = 5000) -> None:
        """Insert rows adapted by `adapt`."""
        if not params:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY: executemany sends (and the server parses) one statement per row, which
                # cost several times the insert itself; SQLite's executemany reuses one prepared
                # statement instead.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in params:
                        copy.write_row(row)
                return
            for i in range(0, len(params), chunk):
                cursor.executemany(self.sql, params[i:i + chunk])

    def insert(self, rows: list[tuple], chunk: int = 5000) -> None:
        if rows:
            self.execute(self.adapt(rows), chunk)


_PLAIN = {"CharField", "TextField", "SlugField", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
          "PositiveBigIntegerField", "BigIntegerField", "SmallIntegerField", "BigAutoField", "AutoField",
          "BooleanField", "ForeignKey", "FileField", "EmailField"}


def reserve_ids(model, n: int) -> list[int]:
    """`n` fresh primary keys for `model`, never used before (inside the caller's transaction)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [table, model._meta.pk.column, n])
            return [row[0] for row in cursor.fetchall()]
        # SQLite (AUTOINCREMENT): above both the largest id and any id ever handed out. The
        # transaction holds the write lock, so nobody else takes these ids meanwhile.
        cursor.execute(f"SELECT COALESCE(MAX({connection.ops.quote_name(model._meta.pk.column)}), 0) "
                       f"FROM {connection.ops.quote_name(table)}")
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(top, row[0] if row else 0) + 1
        return list(range(start, start + n))


_CASE_COLUMNS = [
    "id", "number", "bureau_id", "year", "seq", "channel", "received_at", "registered_at", "registered_by_id", "title",
    "content", "category", "topic_id", "region_id", "head_count", "skip_level", "group_visit", "major_urgent",
    "law_related", "accused_organ_id", "related_case_id", "same_facts", "state", "closure", "current_organ_id",
    "routed_by_id", "returned_from_id", "handling_organ_id", "route_kind", "handling_route", "outcome", "review_outcome",
    "assigned_due", "report_required", "extended", "replied_at", "delivered_on", "satisfaction_organ",
    "satisfaction_bureau", "closed_at", "due_on", "due_warn_on", "due_pending_year", "version",
]


_RELATED = _CASE_COLUMNS.index("related_case_id")


def _case_row(sim: CaseSim, pk) -> tuple:
    """The case's row; `pk` (and the related case, filled in by `BatchWriter.write`) still to come."""
    f = sim.f
    return (
        pk, f["number"], f["bureau"].pk, f["year"], f["seq"], f["channel"], f["received_at"], f["registered_at"],
        f["registered_by"].pk, f["title"], f["content"], f["category"], _pk(f["topic"]), _pk(f["region"]),
        f["head_count"], f["skip_level"], f["group_visit"], f["major_urgent"], f["law_related"],
        _pk(f["accused_organ"]), None, f["same_facts"], f["state"], f["closure"], f["current_organ"].pk,
        _pk(f["routed_by"]), _pk(f["returned_from"]), _pk(f["handling_organ"]), f["route_kind"], f["handling_route"],
        f["outcome"], f["review_outcome"], f["assigned_due"], f["report_required"], f["extended"], f["replied_at"],
        f["delivered_on"], f["satisfaction_organ"], f["satisfaction_bureau"], f["closed_at"], f["due_on"],
        f["due_warn_on"], f["due_pending_year"], f["version"],
    )


class BatchWriter:
    """Writes batches of simulated cases; provisional document sequences run across the run."""

    def __init__(self):
        self._provisional = itertools.count(PROVISIONAL_SEQ + Document.objects.filter(seq__gte=PROVISIONAL_SEQ).count())
        self._titles: dict[str, str] = {}
        self.cases = Inserter(Case, _CASE_COLUMNS)
        self.petitioners = Inserter(Petitioner, ["case_id", "order", "name", "id_number", "phone", "address",
                                                 "is_representative"])
        self.links = Inserter(CaseOrgan, ["case_id", "organ_id", "since"])
        self.events = Inserter(Event, ["id", "case_id", "action", "at", "actor_id", "organ_id", "target_organ_id",
                                       "from_state", "to_state", "note", "data"])
        self.deadlines = Inserter(Deadline, ["case_id", "rule_id", "organ_id", "started_on", "days", "extra_days",
                                             "fixed_due", "due_on", "pending_year", "met_at", "is_open"])
        self.documents = Inserter(Document, ["case_id", "event_id", "kind", "organ_id", "year", "seq", "number", "title",
                                             "addressee", "fields", "issued_at", "issued_by_id", "for_petitioner",
                                             "docx", "pdf"])

    def _title(self, kind: str) -> str:
        if kind not in self._titles:
            self._titles[kind] = str(DocKind(kind).label)
        return self._titles[kind]

    def prepare(self, sims: list[CaseSim]) -> "Prepared":
        """Every row of `sims`, adapted, with the case and event ids still to be given: the work
        that needs no lock, done before the batch's transaction (an import prepares its next batch
        while another process holds SQLite's write lock)."""
        index = {id(sim): i for i, sim in enumerate(sims)}
        events, event_index = [], {}
        for i, sim in enumerate(sims):
            for e in sim.events:
                event_index[id(e)] = len(events)
                events.append((len(events), i, e.action, e.at, e.actor_id, e.organ_id, e.target_organ_id, e.from_state,
                               e.to_state, e.note, e.data))
        return Prepared(
            sims=sims,
            related=[(i, sim.related.sim) for i, sim in enumerate(sims) if sim.related is not None],
            cases=self.cases.adapt([_case_row(sim, i) for i, sim in enumerate(sims)]),
            petitioners=self.petitioners.adapt([
                (i, order, p.name.strip(), p.id_number, p.phone, p.address.strip(), p.is_representative)
                for i, sim in enumerate(sims) for order, p in enumerate(sim.petitioners)]),
            links=self.links.adapt([(i, organ_id, since) for i, sim in enumerate(sims)
                                    for organ_id, since in sim.links.items()]),
            events=self.events.adapt(events),
            deadlines=self.deadlines.adapt([
                (i, d.rule, d.organ_id, d.started_on, d.days, d.extra_days, d.fixed_due, d.due_on, d.pending_year,
                 d.met_at, d.is_open)
                for i, sim in enumerate(sims) for d in sim.deadlines]),
            documents=self.documents.adapt([
                (index[id(sim)], event_index[id(doc.event)], doc.kind, doc.organ.pk, doc.year, next(self._provisional),
                 "", self._title(doc.kind), doc.addressee, doc.fields, doc.issued_at, doc.issued_by_id,
                 doc.for_petitioner, "", "")
                for sim in sims for doc in sim.documents]),
        )

    def write(self, batch: "list[CaseSim] | Prepared", *, defer_text_index: bool = False) -> None:
        """Insert the rows of a batch of sims, or of a batch `prepare`d earlier (once), inside the
        caller's transaction; sets each sim's `pk`. With `defer_text_index` the cases are left out
        of the text index until `cases.search.index_deferred` indexes them (SQLite)."""
        p = batch if isinstance(batch, Prepared) else self.prepare(batch)
        case_ids = reserve_ids(Case, len(p.sims))
        if defer_text_index and case_ids:
            search.defer_text_index(connection, min(case_ids), max(case_ids))
        for sim, pk in zip(p.sims, case_ids):
            sim.pk = pk
        for row in p.cases:
            row[0] = case_ids[row[0]]
        for i, related in p.related:
            p.cases[i][_RELATED] = related.pk  # written in an earlier batch, or earlier in this one
        for rows in (p.petitioners, p.links, p.deadlines):
            for row in rows:
                row[0] = case_ids[row[0]]
        event_ids = reserve_ids(Event, len(p.events))
        for row in p.events:
            row[0], row[1] = event_ids[row[0]], case_ids[row[1]]
        for row in p.documents:
            row[0], row[1] = case_ids[row[0]], event_ids[row[1]]
        self.cases.execute(p.cases)
        self.petitioners.execute(p.petitioners)
        self.links.execute(p.links)
        self.events.execute(p.events)
        self.deadlines.execute(p.deadlines)
        self.documents.execute(p.documents)


@dataclass
class Prepared:
    """A batch's rows as `BatchWriter.prepare` left them: adapted, ids to be given by `write`."""

    sims: list
    related: list
    cases: list
    petitioners: list
    links: list
    events: list
    deadlines: list
    documents: list


def lock_case_counters(bureau_ids) -> dict:
    """(bureau id, year) → CaseCounter, locked for the rest of the transaction."""
    return {(c.bureau_id, c.year): c for c in CaseCounter.objects.select_for_update().filter(bureau_id__in=bureau_ids)}


def save_case_counters(locked: dict, values: dict) -> None:
    changed, new = [], []
    for (bureau_id, year), last in values.items():
        counter = locked.get((bureau_id, year))
        if counter is None:
            new.append(CaseCounter(bureau_id=bureau_id, year=year, last=last))
        elif counter.last != last:
            counter.last = last
            changed.append(counter)
    CaseCounter.objects.bulk_update(changed, ["last"])
    CaseCounter.objects.bulk_create(new)


def number_documents(chunk: int = 5000) -> int:
    """Give every provisionally numbered document its number, in the order documents were issued,
    continuing each (organ, kind, year) counter. Returns how many were numbered. Idempotent."""
    parts = (Document.objects.filter(seq__gte=PROVISIONAL_SEQ).order_by()
             .values_list("organ_id", "kind", "year").distinct())
    table = connection.ops.quote_name(Document._meta.db_table)
    sql = f"UPDATE {table} SET seq = %s, number = %s WHERE id = %s"
    total = 0
    for organ_id, kind, year in list(parts):
        short = Organ.objects.values_list("short_name", flat=True).get(pk=organ_id)
        mark = NUMBER_MARKS[DocKind(kind)]
        with transaction.atomic():
            counter, _new = DocumentCounter.objects.select_for_update().get_or_create(organ_id=organ_id, kind=kind, year=year)
            ids = list(Document.objects.filter(organ_id=organ_id, kind=kind, year=year, seq__gte=PROVISIONAL_SEQ)
                       .order_by("issued_at", "pk").values_list("pk", flat=True))
            with connection.cursor() as cursor:
                for i in range(0, len(ids), chunk):
                    first = counter.last + 1 + i
                    cursor.executemany(sql, [(seq, f"{short}{mark}〔{year}〕{seq}号", pk)
                                             for seq, pk in enumerate(ids[i:i + chunk], first)])
            DocumentCounter.objects.filter(pk=counter.pk).update(last=counter.last + len(ids))
            total += len(ids)
    return total


# --------------------------------------------------------------------------- removing demo data


class ResetRefused(Exception):
    """Demo data cannot be removed without touching data that is not demo data."""


def _raw_delete(qs) -> int:
    # One DELETE statement: the ORM's collector would load every row (millions) into memory.
    return qs._raw_delete(qs.db)


def reset_demo() -> dict:
    """Delete the demo city: every case that is or was at one of its organs (with its petitioners,
    timeline, deadlines, documents and attachments), its users, organs and regions, and their
    counters. Topics stay (they are configuration). Returns what was deleted, by kind."""
    from xinfang.orgs.models import User

    organ_ids = list(Organ.objects.filter(region__code__startswith=DEMO_REGION_PREFIX).values_list("pk", flat=True))
    user_ids = list(demo_user_queryset().values_list("pk", flat=True))
    others = User.objects.filter(organ_id__in=organ_ids).exclude(pk__in=user_ids)
    if others.exists():
        names = "、".join(others.values_list("username", flat=True)[:10])
        raise ResetRefused(f"演示机关中还有非演示账号({names}),请先在系统管理中调整这些账号的所在机关。")
    cases = Case.objects.filter(Q(bureau_id__in=organ_ids) | Exists(
        CaseOrgan.objects.filter(case=OuterRef("pk"), organ_id__in=organ_ids)))
    case_ids = cases.values("pk")
    known = (Document, Deadline, Event, Petitioner, Attachment, CaseOrgan, Case)
    counts = {}
    with transaction.atomic():
        Case.objects.filter(related_case__in=case_ids).update(related_case=None)
        for doc in Document.objects.filter(case__in=case_ids).exclude(docx="", pdf="").iterator():
            for f in (doc.docx, doc.pdf):
                if f:
                    f.delete(save=False)
        for att in Attachment.objects.filter(case__in=case_ids).iterator():
            att.file.delete(save=False)
        # Tables that other parts of xinfang may add later and that point at a case.
        for rel in Case._meta.related_objects:
            if rel.related_model in known:
                continue
            qs = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": case_ids})
            if rel.on_delete is models.CASCADE:
                # Rows that others hang on (a mediation's sessions) go through the ORM's cascade;
                # plain rows (e.g. the duplicate index, millions of them) are deleted in bulk.
                if any(r.on_delete is models.CASCADE for r in rel.related_model._meta.related_objects):
                    qs.delete()
                else:
                    _raw_delete(qs)
            elif rel.on_delete is models.SET_NULL:
                qs.update(**{rel.field.name: None})
            elif qs.exists():
                raise ResetRefused(f"{rel.related_model._meta.verbose_name}仍引用演示信访事项,无法删除演示数据。")
        for model in (Document, Deadline, Event, Petitioner, Attachment):
            counts[model._meta.model_name] = _raw_delete(model.objects.filter(case__in=case_ids))
        counts["case"] = _raw_delete(cases)  # CaseOrgan still says which cases were at demo organs
        _raw_delete(CaseOrgan.objects.filter(Q(organ_id__in=organ_ids) | ~Exists(Case.objects.filter(pk=OuterRef("case_id")))))
        _raw_delete(CaseCounter.objects.filter(bureau_id__in=organ_ids))
        _raw_delete(DocumentCounter.objects.filter(organ_id__in=organ_ids))
        # Directory entries other parts of xinfang keep per organ (e.g. the mediators' register).
        for rel in Organ._meta.related_objects:
            if rel.related_model._meta.app_label in ("orgs", "cases", "documents", "deadlines"):
                continue
            qs = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": organ_ids})
            if rel.on_delete is models.SET_NULL:
                qs.update(**{rel.field.name: None})
            else:
                qs.delete()
        counts["user"] = demo_user_queryset().delete()[1].get("orgs.User", 0)
        Organ.objects.filter(pk__in=organ_ids).update(parent=None)
        counts["organ"] = Organ.objects.filter(pk__in=organ_ids).delete()[0]
        regions = Region.objects.filter(code__startswith=DEMO_REGION_PREFIX)
        regions.update(parent=None)
        counts["region"] = regions.delete()[0]
    return counts
