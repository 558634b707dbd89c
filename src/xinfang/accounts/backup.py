"""Backup and restore of the whole installation: every table of every app (the audit chain
included) and the media files (attachments, generated documents), in one tar.gz archive.

Archive layout (members in this order, so a restore reads it as a stream):

    manifest.json          format, version, creation time, database vendor, applied migrations,
                           per table: model, columns (name and field type), rows, sha256 of its file;
                           per media file: path, size, sha256
    data/<table>.jsonl     one JSON array per row, columns in the manifest's order
    media/<path>           the files under MEDIA_ROOT

Rows are copied at the column level, not through the models: encrypted personal data stays
encrypted in the archive (it is restored byte for byte and needs the same XINFANG_DATA_KEY), and a
restore writes exactly what was read, primary keys included. Values are normalised so that an
archive made on SQLite restores on PostgreSQL and the other way round.

Contract:
- `backup(path)` writes a consistent snapshot (one read transaction: REPEATABLE READ on
  PostgreSQL, a deferred read transaction under WAL on SQLite, so writers are not blocked) and
  returns the manifest.
- `restore(path, force=False)` migrates the database to the archive's schema, loads every row in
  one transaction (constraints are deferred to the commit), checks counts and checksums, resets
  PostgreSQL sequences, puts the media files in place, then migrates to the current schema. It
  refuses a database that already has users or audit entries unless `force`, and then replaces
  everything. Rows are streamed; nothing holds a whole table in memory.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import uuid
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _

FORMAT = "xinfang-backup"
VERSION = 1
BATCH = 500
# Sessions are not data: restoring them would log people back in on the restored system.
EXCLUDED_MODELS = {"sessions.session"}
INTEGER_PKS = {"AutoField", "BigAutoField", "SmallAutoField"}


class BackupError(Exception):
    """A backup or restore that cannot proceed; the message is for the administrator (Chinese)."""


# -- which tables ---------------------------------------------------------------------------------

def backup_models():
    """Concrete, managed models of every installed app, auto-created many-to-many tables included,
    each table once."""
    seen = set()
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped or opts.label_lower in EXCLUDED_MODELS:
            continue
        if opts.db_table in seen:
            continue
        seen.add(opts.db_table)
        yield model


def _columns(model):
    return [(f.column, f.get_internal_type()) for f in model._meta.local_concrete_fields]


# -- values ---------------------------------------------------------------------------------------

def _dump_value(value, kind):
    if value is None:
        return None
    if kind in {"BooleanField", "NullBooleanField"}:
        return bool(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value // dt.timedelta(microseconds=1)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _load_value(value, kind, ops, vendor):
    if value is None:
        return None
    if isinstance(value, dict) and "$b64" in value:
        return base64.b64decode(value["$b64"])
    if kind == "DateTimeField":
        parsed = parse_datetime(value) if isinstance(value, str) else value
        if parsed is not None and timezone.is_naive(parsed):
            parsed = parsed.replace(tzinfo=dt.timezone.utc)  # SQLite keeps UTC without an offset
        return ops.adapt_datetimefield_value(parsed)
    if kind == "DateField":
        return ops.adapt_datefield_value(parse_date(value) if isinstance(value, str) else value)
    if kind == "TimeField":
        return ops.adapt_timefield_value(parse_time(value) if isinstance(value, str) else value)
    if kind == "DecimalField":
        return str(decimal.Decimal(str(value)))
    if kind == "DurationField":
        return dt.timedelta(microseconds=int(value)) if vendor == "postgresql" else int(value)
    if kind == "UUIDField":
        parsed = uuid.UUID(str(value))
        return parsed if vendor == "postgresql" else parsed.hex
    return value


# -- backup ---------------------------------------------------------------------------------------

def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dump_table(model, out: Path) -> dict:
    qn = connection.ops.quote_name
    opts = model._meta
    columns = _columns(model)
    select = []
    for column, kind in columns:
        expr = qn(column)
        if kind == "JSONField" and connection.vendor == "postgresql":
            expr += "::text"  # the JSON text itself, so a JSON string value keeps its quotes
        select.append(expr)
    # A composite primary key (Django 5.2) has no column of its own: order by its parts.
    order = [opts.pk.column] if opts.pk.column else [f.column for f in opts.pk.fields]
    sql = f"SELECT {', '.join(select)} FROM {qn(opts.db_table)} ORDER BY {', '.join(qn(c) for c in order)}"
    digest, rows = hashlib.sha256(), 0
    kinds = [kind for _c, kind in columns]
    with open(out, "wb") as fh, connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while True:
            chunk = cursor.fetchmany(2000)
            if not chunk:
                break
            for row in chunk:
                line = (json.dumps([_dump_value(v, k) for v, k in zip(row, kinds)], ensure_ascii=False,
                                   separators=(",", ":")) + "\n").encode()
                digest.update(line)
                fh.write(line)
                rows += 1
    return {"model": opts.label_lower, "table": opts.db_table, "pk": opts.pk.column or "",
            "pk_kind": opts.pk.get_internal_type(), "columns": [list(c) for c in columns],
            "rows": rows, "file": f"data/{opts.db_table}.jsonl", "sha256": digest.hexdigest()}


def _snapshot(workdir: Path) -> tuple[list[dict], dict]:
    """Dump every table inside one read transaction, so the archive is one instant of the data."""
    tables = []
    own_transaction = not connection.in_atomic_block
    if connection.vendor == "sqlite" and own_transaction:
        # Django opens SQLite write transactions IMMEDIATE (taking the write lock); a plain
        # deferred BEGIN is a read snapshot under WAL and lets the application keep writing.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            migrations = _applied_migrations()
            for model in backup_models():
                tables.append(_dump_table(model, workdir / f"{model._meta.db_table}.jsonl"))
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
        return tables, migrations
    with transaction.atomic():
        if connection.vendor == "postgresql" and own_transaction:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        migrations = _applied_migrations()
        for model in backup_models():
            tables.append(_dump_table(model, workdir / f"{model._meta.db_table}.jsonl"))
    return tables, migrations


def _applied_migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def _media_files():
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, path.relative_to(root).as_posix()


def backup(target: str | os.PathLike) -> dict:
    """Write the archive to `target` (written to a temporary name, renamed when complete)."""
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".xinfang-backup-", dir=target.parent) as tmp:
        workdir = Path(tmp)
        tables, migrations = _snapshot(workdir)
        media = [{"path": rel, "size": path.stat().st_size, "sha256": _sha256_file(path)} for path, rel in _media_files()]
        manifest = {
            "format": FORMAT, "version": VERSION, "xinfang_version": _package_version(),
            "created_at": timezone.now().isoformat(), "vendor": connection.vendor,
            "migrations": migrations, "tables": tables, "media": media,
            "counts": {t["model"]: t["rows"] for t in tables},
        }
        partial = workdir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            for table in tables:
                tar.add(workdir / f"{table['table']}.jsonl", arcname=table["file"], recursive=False)
            root = Path(settings.MEDIA_ROOT)
            for item in media:
                tar.add(root / item["path"], arcname=f"media/{item['path']}", recursive=False)
        os.chmod(partial, 0o600)  # personal data (encrypted fields aside) and password hashes
        os.replace(partial, target)
    return manifest


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("xinfang")
    except PackageNotFoundError:
        return ""


def _add_bytes(tar, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


# -- restore --------------------------------------------------------------------------------------

def _has_rows(model) -> bool:
    table = model._meta.db_table
    if table not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
        return cursor.fetchone() is not None


def database_in_use() -> bool:
    """A database with any user or any audit entry holds someone's work."""
    from django.contrib.auth import get_user_model

    from xinfang.audit.models import AuditEntry
    return _has_rows(get_user_model()) or _has_rows(AuditEntry)


def _migrate_to(migrations: dict[str, list[str]]) -> None:
    """Bring the schema to exactly the archive's migrations (a fresh database: apply them)."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    wanted = {(app, name) for app, names in migrations.items() for name in names}
    unknown = sorted(key for key in wanted if key not in graph.nodes)
    if unknown:
        raise BackupError(_("备份来自更新的版本,本版本没有这些数据库迁移:%(names)s。请用生成备份的版本(或更新版本)恢复。")
                          % {"names": "、".join(f"{a}.{n}" for a, n in unknown[:5])})
    targets = []
    for key in sorted(wanted):
        children = {child.key for child in graph.node_map[key].children}
        if not any(child in wanted and child[0] == key[0] for child in children):
            targets.append(key)
    executor.loader.check_consistent_history(connection)
    plan = executor.migration_plan(targets)
    if plan:
        executor.migrate(targets, plan=plan)


def _restore_rows(tar, member, table: dict, cursor, ops, vendor) -> None:
    qn = ops.quote_name
    columns = table["columns"]
    kinds = [kind for _c, kind in columns]
    sql = (f"INSERT INTO {qn(table['table'])} ({', '.join(qn(c) for c, _k in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    digest, rows, batch = hashlib.sha256(), 0, []
    stream = tar.extractfile(member)
    for line in stream:
        digest.update(line)
        values = json.loads(line)
        batch.append([_load_value(v, k, ops, vendor) for v, k in zip(values, kinds)])
        rows += 1
        if len(batch) >= BATCH:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)
    if digest.hexdigest() != table["sha256"] or rows != table["rows"]:
        raise BackupError(_("备份文件已损坏:表 %(table)s 的校验和或行数不符。") % {"table": table["table"]})


def _empty_tables(tables: list[str], cursor) -> None:
    """Remove the rows migrations seeded (or, with --force, everything) before loading."""
    qn = connection.ops.quote_name
    full = []
    for table in tables:
        cursor.execute(f"SELECT 1 FROM {qn(table)} LIMIT 1")
        if cursor.fetchone() is not None:
            full.append(table)
    if not full:
        return
    if connection.vendor == "postgresql":
        # DELETE would fire the audit log's append-only trigger; TRUNCATE (the tables' owner only)
        # does not. Pending deferred constraint checks would block TRUNCATE, so run them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(qn(t) for t in full)} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    for table in full:
        cursor.execute(f"DELETE FROM {qn(table)}")


def _reset_sequences(tables: list[dict], cursor) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest key inserted
    qn = connection.ops.quote_name
    for table in tables:
        if table["pk_kind"] not in INTEGER_PKS or not table["pk"]:
            continue
        name, pk = table["table"], table["pk"]
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [qn(name), pk])
        sequence = cursor.fetchone()[0]
        if sequence:
            cursor.execute(f"SELECT setval(%s, COALESCE(MAX({qn(pk)}), 1), MAX({qn(pk)}) IS NOT NULL) FROM {qn(name)}",
                           [sequence])


def _safe_media_path(name: str) -> PurePosixPath:
    rel = PurePosixPath(name).relative_to("media")
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise BackupError(_("备份文件中有不安全的路径:%(name)s。") % {"name": name})
    return rel


def restore(source: str | os.PathLike, *, force: bool = False, stdout=None) -> dict:
    source = Path(source)
    if not source.is_file():
        raise BackupError(_("找不到备份文件 %(path)s。") % {"path": source})
    if database_in_use() and not force:
        raise BackupError(_("目标数据库已有用户或审计记录。恢复会替换其中全部数据;确认无误后请加 --force。"))
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.is_dir() and any(media_root.iterdir()) and not force:
        raise BackupError(_("附件目录 %(path)s 不为空;确认无误后请加 --force。") % {"path": media_root})
    staging = Path(tempfile.mkdtemp(prefix=".xinfang-restore-", dir=media_root.parent if media_root.parent.exists() else None))
    try:
        with tarfile.open(source, "r|gz") as tar:
            members = iter(tar)
            first = next(members, None)
            if first is None or first.name != "manifest.json":
                raise BackupError(_("这不是信访平台的备份文件(缺少 manifest.json)。"))
            manifest = json.load(tar.extractfile(first))
            if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
                raise BackupError(_("备份文件格式不受支持。"))
            _migrate_to(manifest["migrations"])
            tables = {t["file"]: t for t in manifest["tables"]}
            media = {f"media/{m['path']}": m for m in manifest["media"]}
            seen_tables, seen_media = set(), set()
            ops, vendor = connection.ops, connection.vendor
            with transaction.atomic(), connection.cursor() as cursor:
                existing = set(connection.introspection.table_names())
                _empty_tables([t for t in [t["table"] for t in manifest["tables"]] + ["django_session"] if t in existing],
                              cursor)
                missing = [t["table"] for t in manifest["tables"] if t["table"] not in existing]
                if missing:
                    raise BackupError(_("数据库中缺少备份里的表:%(names)s。") % {"names": "、".join(missing[:5])})
                for member in members:
                    if member.name in tables:
                        _restore_rows(tar, member, tables[member.name], cursor, ops, vendor)
                        seen_tables.add(member.name)
                    elif member.name in media and member.isfile():
                        rel = _safe_media_path(member.name)
                        out = staging / rel
                        out.parent.mkdir(parents=True, exist_ok=True)
                        digest = hashlib.sha256()
                        with tar.extractfile(member) as src, open(out, "wb") as dst:
                            for block in iter(lambda: src.read(1 << 20), b""):
                                digest.update(block)
                                dst.write(block)
                        if digest.hexdigest() != media[member.name]["sha256"]:
                            raise BackupError(_("备份文件已损坏:附件 %(name)s 的校验和不符。") % {"name": rel})
                        seen_media.add(member.name)
                    else:
                        raise BackupError(_("备份文件中有清单未列出的内容:%(name)s。") % {"name": member.name})
                if seen_tables != set(tables) or seen_media != set(media):
                    raise BackupError(_("备份文件不完整:部分数据表或附件缺失。"))
                _reset_sequences(manifest["tables"], cursor)
        # The database is committed: put the files in place.
        if force and media_root.is_dir():
            shutil.rmtree(media_root)
        media_root.mkdir(parents=True, exist_ok=True)
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                dest = media_root / path.relative_to(staging)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Later migrations of this version run on the restored data.
    call_command("migrate", interactive=False, verbosity=0)
    return manifest


def table_counts() -> dict[str, int]:
    """Row counts of every backed-up table, by model label (for comparing with a manifest)."""
    counts = {}
    with connection.cursor() as cursor:
        for model in backup_models():
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)}")
            counts[model._meta.label_lower] = cursor.fetchone()[0]
    return counts
