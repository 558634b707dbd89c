"""Importing a ledger (台账): each row becomes a case with its own history, or an error-report line.

How a run goes:
1. the file is read once for structural problems (`readers.LedgerReader.check`); a file that is
   not a readable ledger is refused whole, nothing is written;
2. rows are then read again, cleaned (`clean_row`) and written in batches. Each batch is one
   transaction holding the cases, their petitioners, timeline, organ links and deadlines, the
   `LedgerRow` keys, the batch's error lines and the job's progress, and it sends
   `cases_created(source="import")` so duplicate detection and suggestions screen the batch. A
   crash loses at most the batch in progress; rerunning the job (or the same file) skips what was
   committed: a job resumes after its `rows_done`, and any run skips a (bureau, 编号) already in
   `LedgerRow`.

Imported history keeps its own dates, states, replies and satisfaction: `ImportedHistory` replays
the service steps (register → forward → accept → reply → evaluate → close) at the ledger's own
moments through the demo generator's mirror of the workflow services (`xinfang.demo.simulate
.CaseSim`), and the rows are written with the demo's bulk writer, so the rows are those the
services would have written and the metrics count imported cases like any other. Open cases get
their running deadlines computed from their own dates (Art.22, 23).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from xinfang.cases import search
from xinfang.cases.models import Case, CaseCounter, Category, Closure, HandlingRoute, RouteKind, State, Topic
from xinfang.cases.signals import cases_created
from xinfang.cases.validators import validate_id_number, validate_phone
from xinfang.cases.workflow import MAX_CONTENT, PetitionerData
from xinfang.deadlines.engine import Calendar, CalendarNotCovered
from xinfang.deadlines.models import Rule
from xinfang.dedup import screener
from xinfang.demo.simulate import CaseSim, SimError
from xinfang.demo.writer import BatchWriter, Inserter, lock_case_counters, save_case_counters
from xinfang.orgs.models import Organ, Region

from . import columns as C
from .models import ImportJob, ImportRowError, LedgerRow
from .readers import FileProblem, LedgerReader

BATCH = 1000
S = State
# The handling route an imported case is taken to have been accepted on (Art.29–31).
DEFAULT_ROUTE = {Category.SUGGESTION: HandlingRoute.SUGGESTION, Category.REPORT: HandlingRoute.REPORT,
                 Category.CLAIM: HandlingRoute.OPINION}
_MINUTE = dt.timedelta(minutes=1)


class RowErrors(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(r for _c, r in errors))


# --------------------------------------------------------------------------- names → objects


class Lookups:
    """Regions, topics and organs by the names a ledger uses (loaded once per run)."""

    def __init__(self):
        self.regions = self._index(Region.objects.all(), ("name", "code"))
        self.organs = self._index(Organ.objects.filter(is_active=True), ("name", "short_name", "code"))
        topics = list(Topic.objects.select_related("parent"))
        self.topics = self._index(topics, ("name",))
        for t in topics:
            if t.parent_id:
                for sep in ("›", ">", "/", "-", "—", "\\"):
                    self.topics[f"{t.parent.name}{sep}{t.name}"] = t

    @staticmethod
    def _index(objs, attrs) -> dict:
        out: dict = {}
        for o in objs:
            for a in attrs:
                key = "".join(str(getattr(o, a) or "").split())
                if key:
                    # A name shared by two objects is ambiguous: it matches neither.
                    out[key] = None if key in out and out[key] is not o else o
                    if a == "code":
                        out.setdefault(key.upper(), o)
        return out

    def find(self, kind: str, key: str, value: str):
        table = getattr(self, kind)
        found = table.get("".join(value.split()))
        if found is None:
            why = _("有多个同名项") if "".join(value.split()) in table else _("系统中不存在")
            raise C.CellError(key, _("%(label)s“%(value)s”%(why)s,请使用系统中的名称。") % {
                "label": C.LABELS[key], "value": value[:50], "why": why})
        return found


# --------------------------------------------------------------------------- one row


@dataclass
class Row:
    number: int  # row number in the file (the header is row 1)
    source_no: str
    received_at: dt.datetime
    channel: str
    category: str
    title: str
    content: str
    head_count: int
    status: str
    petitioner: PetitionerData | None
    region: Region | None = None
    topic: Topic | None = None
    organ: Organ | None = None
    replied_at: dt.datetime | None = None
    reply: str = ""
    satisfaction: str = ""
    extra: dict = field(default_factory=dict)


def clean_row(number: int, cells: list, layout, lookups: Lookups, bureau: Organ, now: dt.datetime) -> Row:
    """A data row as a `Row`, or RowErrors listing every bad cell (column label, Chinese reason)."""
    errors: list[tuple[str, str]] = []
    values: dict[str, object] = {}
    extra: dict[str, str] = {}
    width = len(layout.keys)
    if len(cells) > width and any(c not in (None, "") for c in cells[width:]):
        errors.append(("", _("该行有%(n)s列数据,比表头多,请检查是否有未加引号的逗号。") % {"n": len(cells)}))
    for i, key in enumerate(layout.keys):
        value = cells[i] if i < len(cells) else None
        if isinstance(value, str) and len(value) > C.MAX_CELL:
            errors.append((C.LABELS.get(key) or layout.headers[i],
                           _("单元格过长(%(n)s字),上限为%(max)s字。") % {"n": len(value), "max": C.MAX_CELL}))
            continue
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL cannot store NUL in text; a NUL means a damaged or binary file.
            errors.append((C.LABELS.get(key) or layout.headers[i], _("含有空字符(NUL),文件可能已损坏。")))
            continue
        if key is None:
            v = C.text(value)
            if v and layout.headers[i]:
                extra[layout.headers[i]] = v
        else:
            values[key] = value

    def err(key, reason):
        errors.append((C.LABELS.get(key, key), str(reason)))

    texts = {k: C.text(v) for k, v in values.items()}

    def txt(key):
        return texts.get(key, "")

    for key in C.REQUIRED:
        if key not in values:
            continue  # already reported as too long
        if not txt(key):
            err(key, C.MESSAGES["required"])
    source_no = txt("case_no")
    if len(source_no) > 100:
        err("case_no", _("编号不能超过100个字符。"))
    out = {}
    for key, parse in (("channel", C.channel), ("category", C.category)):
        if txt(key):
            try:
                out[key] = parse(txt(key))
            except C.CellError as e:
                err(key, e.reason)
    received = replied = None
    if txt("received_at"):
        try:
            received, has_time = C.parse_datetime("received_at", values["received_at"])
            if not has_time:
                received = received.replace(hour=9)  # a date alone: the start of the office day
            if received > now:
                err("received_at", _("登记日期不能晚于当前时间。"))
        except C.CellError as e:
            err("received_at", e.reason)
    if txt("replied_at"):
        try:
            replied, has_time = C.parse_datetime("replied_at", values["replied_at"])
            if not has_time:
                replied = replied.replace(hour=16)
            if replied > now:
                err("replied_at", _("答复日期不能晚于当前时间。"))
            elif received and replied.date() < received.date():
                err("replied_at", _("答复日期早于登记日期。"))
        except C.CellError as e:
            err("replied_at", e.reason)
    content, title = txt("content"), txt("title")
    if len(content) > MAX_CONTENT:
        err("content", _("信访内容不能超过%(n)s字。") % {"n": MAX_CONTENT})
    if len(title) > 200:
        err("title", _("标题不能超过200字。"))
    if not title:
        title = content.splitlines()[0][:30] if content else ""
    try:
        head_count = C.parse_count(values.get("people_count"))
    except C.CellError as e:
        err("people_count", e.reason)
        head_count = 1
    name, id_number, phone = txt("petitioner_name"), txt("id_number"), txt("phone")
    if len(name) > 50:
        err("petitioner_name", _("信访人姓名不能超过50字。"))
    if id_number:
        try:
            id_number = validate_id_number(id_number)
        except Exception as e:  # ValidationError
            err("id_number", " ".join(getattr(e, "messages", [str(e)])))
    if phone:
        try:
            phone = validate_phone(phone)
        except Exception as e:
            err("phone", " ".join(getattr(e, "messages", [str(e)])))
    if (id_number or phone) and not name:
        err("petitioner_name", _("填写了证件号码或联系电话时,须填写信访人姓名。"))
    found = {}
    for key, kind in (("region", "regions"), ("topic", "topics"), ("organ", "organs")):
        if txt(key):
            try:
                found[key] = lookups.find(kind, key, txt(key))
            except C.CellError as e:
                err(key, e.reason)
    status = ""
    if txt("status"):
        try:
            status = C.status(txt("status"))
            if txt("status") in C.REVIEW_STATUSES:
                extra["原办理状态"] = txt("status")  # review stages are imported up to the reply
        except C.CellError as e:
            err("status", e.reason)
    elif not errors:
        status = "replied" if replied else ("pending" if found.get("organ") else "registered")
    satisfaction = ""
    if txt("satisfaction"):
        try:
            satisfaction = C.satisfaction(txt("satisfaction"))
        except C.CellError as e:
            err("satisfaction", e.reason)
    organ = found.get("organ")
    if status in ("pending", "handling", "replied", "closed") and "organ" not in found and not txt("organ"):
        err("organ", _("办理状态为“%(status)s”时须填写责任单位。") % {"status": txt("status") or status})
    if organ is not None and status not in ("", "registered"):
        if organ.pk == bureau.pk:
            err("organ", _("责任单位不能是登记机关本身;由本机关直接办结的,办理状态请填“不予受理”或“告知其他法定途径”。"))
        elif organ.is_bureau and status in ("handling", "replied", "closed"):
            err("organ", _("责任单位“%(organ)s”是信访部门,不能作为承办机关导入为“%(status)s”。") % {
                "organ": organ.name, "status": txt("status")})
    if status in ("replied", "closed") and replied is None and not any(k == C.LABELS["replied_at"] for k, _r in errors):
        err("replied_at", _("办理状态为“%(status)s”时须填写答复日期。") % {"status": txt("status") or status})
    if satisfaction and status not in ("replied", "closed"):
        err("satisfaction", _("只有已答复或已办结的事项才有满意度。"))
    if errors:
        raise RowErrors(errors)
    petitioner = PetitionerData(name=name, id_number=id_number, phone=phone) if name else None
    return Row(number=number, source_no=source_no, received_at=received, channel=out["channel"],
               category=out["category"], title=title, content=content, head_count=head_count, status=status,
               petitioner=petitioner, region=found.get("region"), topic=found.get("topic"), organ=organ,
               replied_at=replied, reply=txt("reply"), satisfaction=satisfaction, extra=extra)


# --------------------------------------------------------------------------- its history


class _Actor:
    """Who a replayed step is recorded for: the importing user at the bureau, the organ itself."""

    def __init__(self, pk, organ):
        self.pk, self.organ, self.organ_id = pk, organ, organ.pk if organ else None
        self.username = ""


class _ImportCalendar(Calendar):
    """The holiday calendar with due dates remembered for the run: a ledger's rows share their
    dates and each row opens the same few limits. A date the calendar cannot compute is not
    remembered (it raises every time)."""

    def due(self, start, days, unit, extra_days=0):
        dues = self.__dict__.setdefault("_dues", {})
        key = (start, days, unit, extra_days)
        hit = dues.get(key)
        if hit is None:
            hit = dues[key] = super().due(start, days, unit, extra_days)
        return hit


class _LenientCalendar(_ImportCalendar):
    """Plain weekdays in years the holiday calendar does not cover: used only for history that is
    over (no duty of it running), never for an open case (its limits are pending, never guessed)."""

    def check(self, day):
        return None


class ImportContext:
    """What `CaseSim` needs of its run (see demo.simulate.Context), for an import."""

    def __init__(self, calendar: Calendar, rules: dict, now: dt.datetime):
        self.calendar, self.rules = calendar, rules
        self.now = now + dt.timedelta(days=1)  # steps replayed a few minutes after a row's last moment
        self.tz = timezone.get_current_timezone()
        self.guide_back = False  # imported history already happened
        self.counters: dict = {}
        self._labels: dict = {}

    def date_of(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()

    def next_number(self, bureau: Organ, year: int) -> tuple[int, str]:
        key = (bureau.pk, year)
        self.counters[key] = self.counters.get(key, 0) + 1
        seq = self.counters[key]
        return seq, f"{bureau.code.upper()}-{year}-{seq:06d}"  # workflow.next_case_number's format

    def give_back(self, bureau: Organ, year: int) -> None:
        """Return the last number taken (its case could not be rebuilt): numbers never skip."""
        self.counters[(bureau.pk, year)] -= 1

    def label(self, choices, value) -> str:
        # Only used for documents, which an import does not issue; an imported reply has no outcome.
        key = (choices, value)
        if key not in self._labels:
            self._labels[key] = str(choices(value).label) if value else ""
        return self._labels[key]

    def descendants(self, organ: Organ) -> set[int]:
        return set(organ.descendant_ids())


# Row statuses whose case is imported open, with a duty still running (cases.models.OPEN_STATES).
OPEN_ROW_STATUSES = ("registered", "pending", "handling")


class ImportedHistory(CaseSim):
    """A CaseSim replaying a ledger row's history. Roles are not checked (the history happened in
    the source system; the import itself is a registrar's act), no documents are issued (they were
    issued by the source system), and a case closed there is closed here whatever its windows.

    `open_row` (set by build_history before the replay) says whether the row's case is still open
    (待转送, 待受理, 办理中)."""

    open_row = False

    def _check(self, name, actor):
        return None

    def _issue(self, *args, **kwargs):
        return None

    def _due(self, rule_code, start, days=None):
        """(due_on, pending_year). An open case is imported as a live registration would have
        written it: a limit in a year the calendar does not cover is pending (None, the year) and
        is filled in when that year is entered (recompute_open_deadlines). History that is over
        raises CalendarNotCovered instead, and history_or_errors replays it on plain weekdays: a
        pending date on a closed limit would never be filled in."""
        if self.open_row:
            return super()._due(rule_code, start, days)
        rule = self.ctx.rules[rule_code]
        return self.ctx.calendar.due(start, rule.days if days is None else days, rule.unit), None

    def close_case(self, at, actor) -> None:
        self._begin("close_case", at, actor, {})
        closure = Closure.REPLIED if self.state == S.REPLIED else Closure.REVIEWED
        self._close()
        self.f.update(closure=closure, closed_at=self.now)
        self._finish(S.CLOSED)


def build_history(ctx: ImportContext, row: Row, bureau: Organ, user_pk) -> ImportedHistory:
    sim = ImportedHistory(ctx, row.number)
    sim.open_row = row.status in OPEN_ROW_STATUSES
    clerk = _Actor(user_pk, bureau)
    t = row.received_at
    data = dict(channel=row.channel, received_at=t, title=row.title, content=row.content, category=row.category,
                topic=row.topic, region=row.region, head_count=row.head_count, accused_organ=None)
    sim.register_case(t, clerk, data, [row.petitioner] if row.petitioner else [])
    status = row.status
    if status == "registered":
        return sim
    organ = row.organ
    end = max(row.replied_at or t, t + 3 * _MINUTE)
    if organ is None:  # decided by the bureau itself
        if status == "not_accepted":
            sim.not_accept_case(end, clerk, reason=row.reply)
        elif status == "informed":
            sim.inform_case(end, clerk, channel="", reason=row.reply)
        return sim
    sim.route_case(t + _MINUTE, clerk, kind=RouteKind.FORWARD, organ=organ)
    staff = _Actor(None, organ)
    if status == "pending":
        return sim
    if status == "not_accepted":
        sim.not_accept_case(end, staff, reason=row.reply)
        return sim
    if status == "informed":
        sim.inform_case(end, staff, channel="", reason=row.reply)
        return sim
    if organ.is_bureau:
        return sim
    sim.accept_case(t + 2 * _MINUTE, staff, route=DEFAULT_ROUTE[row.category])
    if status == "handling":
        return sim
    sim.reply_case(end, staff, outcome="", opinion=row.reply)
    last = end
    if row.satisfaction:
        last += _MINUTE
        sim.evaluate_case(last, clerk, organ_satisfaction=row.satisfaction)
    if status == "closed":
        sim.close_case(last + _MINUTE, staff)
    return sim


def history_or_errors(ctx: ImportContext, lenient: ImportContext, row: Row, bureau: Organ, user_pk) -> ImportedHistory:
    """The row's history; RowErrors when it cannot be rebuilt. A case number taken by a history
    that failed is given back, so numbers never skip."""
    key = (bureau.pk, row.received_at.astimezone(ctx.tz).year)
    before = ctx.counters.get(key)

    def give_back():
        if before is None:
            ctx.counters.pop(key, None)
        else:
            ctx.counters[key] = before

    try:
        return build_history(ctx, row, bureau, user_pk)
    except CalendarNotCovered as exc:
        give_back()
        # An open case's limits are pending rather than raising (ImportedHistory._due), so this is
        # history that is over; should anything else ever raise for an open case, or on plain
        # weekdays, the row is refused with the reason rather than given a guessed date.
        if row.status in OPEN_ROW_STATUSES or ctx is lenient:
            raise RowErrors([(C.LABELS["received_at"], str(exc))]) from None
    except SimError as exc:
        give_back()
        raise RowErrors([(C.LABELS["status"], _("无法按该办理状态重建办理过程(%(err)s)。") % {"err": exc})]) from None
    # History that is over: its closed limits are counted on plain weekdays (see _LenientCalendar).
    lenient.counters = ctx.counters
    return history_or_errors(lenient, lenient, row, bureau, user_pk)


# --------------------------------------------------------------------------- the run


@dataclass
class Progress:
    total: int
    done: int = 0
    created: int = 0
    skipped: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)
    screening: bool = False  # every row written; the duplicate screening of the last ones goes on


class ErrorSink:
    """Where error lines go: the job's ImportRowError rows (written with their batch)."""

    def __init__(self, job: ImportJob | None):
        self.job, self.pending = job, []

    def add(self, row: int, column: str, reason: str) -> None:
        self.pending.append((row, column[:100], reason))

    def flush(self) -> None:
        if self.job is not None and self.job.pk:
            ImportRowError.objects.bulk_create([ImportRowError(job=self.job, row=r, column=c, reason=m)
                                                for r, c, m in self.pending], batch_size=1000)
        self.pending = []


@contextlib.contextmanager
def _bulk_settings():
    """SQLite: a larger page cache for the run (the duplicate index is read at random for every
    batch; the default 2 MB cache rereads its pages from the OS on every batch), and the database
    file mapped into memory (MMAP_BYTES), so that a page outside the cache is read in place
    rather than copied. Both restored after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        old = cur.fetchone()[0]
        cur.execute("PRAGMA mmap_size")
        old_mmap = cur.fetchone()[0]
        cur.execute("PRAGMA cache_size = -65536")  # 64 MB
        cur.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {int(old)}")
            cur.execute(f"PRAGMA mmap_size = {int(old_mmap)}")


# SQLite: how much of the database file an import and its screening process map into memory
# (reads only; writes still go through the write-ahead log). 100,000-row imports: 1,000–1,039
# rows/s with it, 889–1,000 without, and 5–10% less CPU in the screening process.
MMAP_BYTES = 1024 * 1024 * 1024


# SQLite: the size the write-ahead log may reach during an import before it is emptied.
WAL_LIMIT_BYTES = 64 * 1024 * 1024


def _bound_wal() -> None:
    """SQLite: keep the write-ahead log of a long import small. The log is copied back into the
    database after commits (checkpoints), but it is only started again from its beginning when no
    reader still reads from it; with the import and its screening process reading and writing in
    turn that moment never comes, and the log grew by the size of everything written (1.4 GB for
    100,000 rows; every later reader pays for a long log). Once it passes WAL_LIMIT_BYTES, a
    TRUNCATE checkpoint between batches waits for the readers of the moment, copies the log back
    and empties it. Called outside any transaction."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    try:
        size = os.path.getsize(f"{connection.settings_dict['NAME']}-wal")
    except (OSError, TypeError):
        return  # an in-memory database, or no log yet
    if size > WAL_LIMIT_BYTES:
        with connection.cursor() as cur:
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _merge_text_index(unmerged: int) -> int:
    """PostgreSQL: the import's cases wait in the trigram indexes' pending lists; without a
    screening process to merge them (`cases.search`, MERGE_ROWS) the importer merges them itself
    every MERGE_ROWS rows, in bulk, rather than leaving an insert to do it in small steps. Takes
    and returns the rows written since the last merge."""
    if screener.deferred() or unmerged < search.MERGE_ROWS:
        return unmerged
    search.merge_pending(connection)
    return 0


@contextlib.contextmanager
def _quiet_gc():
    """Fewer garbage collections while importing. Reference counting frees the rows a batch makes;
    the collector's full passes instead walked every object of the process (the framework, the
    duplicate screening's profile cache) every few batches, about a sixth of the CPU time. The
    objects that exist before the import are set aside (gc.freeze) and collections come less often;
    both are undone afterwards."""
    import gc

    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


# A batch holds the bureau's case counter (and, on SQLite, the database's write lock) until it
# commits, so batches are sized to commit about every BATCH_SECONDS whatever the receivers cost:
# live registrations at the same bureau wait at most that long.
BATCH_SECONDS = 2.0
MIN_BATCH = 50


class _Sizer:
    def __init__(self, largest: int):
        self.largest = largest
        self.size = min(largest, 200)

    def measured(self, rows: int, seconds: float) -> None:
        if rows and seconds > 0:
            wanted = int(rows / seconds * BATCH_SECONDS)
            self.size = max(min(MIN_BATCH, self.largest), min(self.largest, wanted))


def _batches(rows, sizer: _Sizer):
    batch = []
    for item in rows:
        batch.append(item)
        if len(batch) >= sizer.size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_import(job: ImportJob, *, batch_size: int = BATCH, dry_run: bool = False, progress=None,
               checking=None, error_sink: ErrorSink | None = None) -> Progress:
    """Run (or resume) `job` in batches of at most `batch_size` rows (fewer when the receivers are
    slow, see BATCH_SECONDS). `checking(rows_read)` is called during the structural check,
    `progress(Progress)` after every batch. With dry_run, every row is checked and nothing is
    written (the errors go to `error_sink`)."""
    sink = error_sink or ErrorSink(None if dry_run else job)
    bureau = job.bureau
    user_pk = job.user_id
    now = timezone.now()
    save = not dry_run and job.pk

    def update(**fields):
        for k, v in fields.items():
            setattr(job, k, v)
        if save:
            ImportJob.objects.filter(pk=job.pk).update(**fields)

    update(status=ImportJob.Status.CHECKING, started_at=job.started_at or now, heartbeat=now, message="")

    def checked(rows: int) -> None:
        # Reading a large file takes minutes: without a heartbeat the job would look stalled and a
        # second worker would take it (models.STALL) while this one still runs.
        if save:
            ImportJob.objects.filter(pk=job.pk).update(heartbeat=timezone.now())
        if checking:
            checking(rows)

    try:
        reader = LedgerReader(job.path())
        total = reader.check(progress=checked)
    except FileProblem as exc:
        update(status=ImportJob.Status.FAILED, message=str(exc), finished_at=timezone.now())
        sink.add(1, "", str(exc))
        sink.flush()
        return Progress(total=0)
    except OSError as exc:
        update(status=ImportJob.Status.FAILED, message=_("无法读取文件:%(err)s") % {"err": exc}, finished_at=timezone.now())
        return Progress(total=0)
    update(status=ImportJob.Status.RUNNING, total=total, heartbeat=timezone.now())
    lookups = Lookups()
    calendar = Calendar.load()
    rules = {r.code: r for r in Rule.objects.all()}
    ctx = ImportContext(_ImportCalendar(calendar.years, calendar.holidays, calendar.workdays), rules, now)
    lenient = ImportContext(_LenientCalendar(calendar.years, calendar.holidays, calendar.workdays), rules, now)
    writer = BatchWriter() if not dry_run else None
    keys = Inserter(LedgerRow, ["bureau_id", "source_no", "case_id", "job_id", "row", "extra"]) if not dry_run else None
    resume = job.rows_done
    index = 0
    # A large import's duplicate screening runs in a second process, beside the writing.
    state = Progress(total=total, done=job.rows_done, created=job.created, skipped=job.skipped, errors=job.errors)

    def screening() -> None:  # waiting for the screening process after the last batch
        update(heartbeat=timezone.now())
        state.screening = True
        if progress:
            progress(state)

    alongside = screener.alongside(job.pk, total, beat=screening) if save else contextlib.nullcontext()
    unmerged = 0
    try:
        with _quiet_gc(), alongside, _bulk_settings():
            sizer = _Sizer(batch_size)
            for batch in _batches(reader.rows(), sizer):
                if index + len(batch) <= resume:
                    index += len(batch)
                    continue
                todo = batch[max(0, resume - index):]
                index += len(batch)
                started = time.monotonic()
                _import_batch(todo, reader, lookups, ctx, lenient, bureau, user_pk, job, writer, keys, sink, state, now,
                              dry_run)
                sizer.measured(len(todo), time.monotonic() - started)
                if not dry_run:
                    _bound_wal()
                    unmerged = _merge_text_index(unmerged + len(todo))
                if progress:
                    progress(state)
            if not dry_run:
                # PostgreSQL: the last batches' text index entries, merged while a screening
                # process finishes its last batches.
                search.merge_pending(connection)
    except FileProblem as exc:  # cannot happen after check(), unless the file changed meanwhile
        update(status=ImportJob.Status.FAILED, message=str(exc), finished_at=timezone.now())
        return state
    state.screening = False
    update(status=ImportJob.Status.DONE, finished_at=timezone.now(),
           message=_("共%(total)s行:新建%(created)s件,已导入过%(skipped)s行,错误%(errors)s行。") % {
               "total": total, "created": state.created, "skipped": state.skipped, "errors": state.errors})
    if save:
        from xinfang.audit.log import append as audit

        audit(job.user, "ledger.import", job, file=job.name, rows=total, created=state.created,
              skipped=state.skipped, errors=state.errors)
    return state


def _counters(bureau: Organ) -> dict:
    """{(bureau id, year): last number} of the bureau's case counters, read without a lock."""
    return {(b, y): last for b, y, last in CaseCounter.objects.filter(bureau_id=bureau.pk).values_list(
        "bureau_id", "year", "last")}


def _replay(rows, ctx, lenient, bureau, user_pk, counters: dict):
    """The histories of `rows`, numbered on from `counters`: ([(row, sim)], [(row, errors)]).
    Leaves the counters after the last number taken in `ctx.counters`."""
    ctx.counters = dict(counters)
    lenient.counters = ctx.counters
    sims, failed = [], []
    for row in rows:
        try:
            sims.append((row, history_or_errors(ctx, lenient, row, bureau, user_pk)))
        except RowErrors as exc:
            failed.append((row, exc.errors))
    return sims, failed


def _import_batch(batch, reader, lookups, ctx, lenient, bureau, user_pk, job, writer, keys, sink, state, now, dry_run):
    cleaned: list[Row] = []
    errors = 0
    for number, cells in batch:
        try:
            cleaned.append(clean_row(number, cells, reader.layout, lookups, bureau, now))
        except RowErrors as exc:
            for column, reason in exc.errors:
                sink.add(number, column, reason)
            errors += 1
    existing = {no: (job_id, number) for no, job_id, number in LedgerRow.objects.filter(
        bureau=bureau, source_no__in={r.source_no for r in cleaned}).values_list("source_no", "job_id", "row")
        } if cleaned else {}
    # A 编号 imported before (by an earlier import, or this very row by this job) is skipped; one
    # that an earlier row of this file has (in this batch or, seen in LedgerRow, an earlier batch
    # of this job) is an error: the same whatever the batch boundaries.
    rows: list[Row] = []
    skipped = 0
    first_seen: dict[str, int] = {}
    for row in cleaned:
        job_id, first = existing.get(row.source_no, (None, None))
        if first is not None and not (job.pk and job_id == job.pk and first != row.number):
            skipped += 1
            continue
        first = first if first is not None else first_seen.get(row.source_no)
        if first is not None:
            sink.add(row.number, C.LABELS["case_no"], _("编号“%(no)s”与第%(row)s行重复。") % {
                "no": row.source_no, "row": first})
            errors += 1
            continue
        first_seen[row.source_no] = row.number
        rows.append(row)
    # The histories are replayed and their rows prepared before the transaction: on SQLite the
    # transaction holds the database's write lock, which the duplicate screening process needs
    # too. They are numbered from the bureau's counters as read now; should a registration take a
    # number meanwhile, they are replayed again under the lock (numbers follow registration order
    # and never skip).
    seen = {} if dry_run else _counters(bureau)
    sims, failed = _replay(rows, ctx, lenient, bureau, user_pk, seen)
    prepared = writer.prepare([s for _r, s in sims]) if not dry_run else None
    with transaction.atomic():
        locked = lock_case_counters([bureau.pk]) if not dry_run else {}
        now_counters = {key: c.last for key, c in locked.items()}
        if now_counters != seen:
            for _r, s in sims:
                s.release()
            sims, failed = _replay(rows, ctx, lenient, bureau, user_pk, now_counters)
            prepared = writer.prepare([s for _r, s in sims])
        for row, row_errors in failed:
            for column, reason in row_errors:
                sink.add(row.number, column, reason)
        errors += len(failed)
        if not dry_run:
            # With a screening process beside it, that process may also index the batch's text
            # (on SQLite the text index is most of what writing a case costs).
            writer.write(prepared, defer_text_index=screener.defer_text())
            keys.insert([(bureau.pk, r.source_no, s.pk, job.pk, r.number, r.extra) for r, s in sims])
            save_case_counters(locked, ctx.counters)
            if sims:
                cases_created.send(sender=Case, case_ids=[s.pk for _r, s in sims], source="import")
        sink.flush()
        state.done += len(batch)
        state.created += len(sims)
        state.skipped += skipped
        state.errors += errors
        if not dry_run and job.pk:
            ImportJob.objects.filter(pk=job.pk).update(
                heartbeat=timezone.now(), rows_done=F("rows_done") + len(batch), created=F("created") + len(sims),
                skipped=F("skipped") + skipped, errors=F("errors") + errors)
    for _r, s in sims:
        s.release()


__all__ = ["run_import", "clean_row", "build_history", "Lookups", "ImportContext", "RowErrors"]
