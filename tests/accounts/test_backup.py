"""`xinfang backup` / `xinfang restore`: the whole database (audit chain included) and the media
files round-trip into a fresh database, primary keys and encrypted values kept byte for byte."""
from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from tests.conftest import petition_data
from xinfang.accounts import backup as bk
from xinfang.audit.log import verify
from xinfang.audit.models import AuditEntry
from xinfang.cases import workflow
from xinfang.cases.models import Case, Petitioner


def manifest_of(path):
    with tarfile.open(path) as tar:
        return json.load(tar.extractfile("manifest.json"))


@pytest.fixture
def world(cast, make_case):
    case = make_case("replied")
    with_file = workflow.register_case(cast.registrar, petition_data(title="附件测试"), [
        workflow.PetitionerData(name="王附件", phone="13900139000")],
        [("证明.txt", ContentFile("证明材料".encode(), name="证明.txt"))])
    return case, with_file


def raw_row(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_round_trip_into_a_fresh_database(world, tmp_path):
    case, with_file = world
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", str(archive), stdout=open(os.devnull, "w"))
    manifest = manifest_of(archive)
    assert manifest["format"] == "xinfang-backup" and "cases" in manifest["migrations"]
    counts = manifest["counts"]
    assert counts["cases.case"] == Case.objects.count() == 2
    assert counts["audit.auditentry"] == AuditEntry.objects.count() >= 5
    assert counts["orgs.user"] == 14 and "sessions.session" not in counts
    attachment = with_file.attachments.get()
    assert [m["path"] for m in manifest["media"]] == [attachment.file.name]
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    # Restore in another process into a brand-new SQLite database and media directory.
    target = tmp_path / "restored"
    target.mkdir()
    key_file = settings.DATA_DIR / "data_key"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(XINFANG_DATA_DIR=str(target), XINFANG_DATA_KEY=settings.DATA_KEY or key_file.read_text().strip())
    result = subprocess.run([sys.executable, "-m", "xinfang", "restore", str(archive)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "审计链完整" in result.stdout

    db = sqlite3.connect(target / "xinfang.sqlite3")
    for model, n in counts.items():
        table = next(t["table"] for t in manifest["tables"] if t["model"] == model)
        assert db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] == n, model
    # the same keys and the same stored bytes (personal data stays encrypted, under the same key)
    title, = db.execute("SELECT title FROM cases_case WHERE id = ?", [case.pk]).fetchone()
    assert title == case.title
    pet = Petitioner.objects.filter(case=case).first()
    stored = raw_row("SELECT id_number FROM cases_petitioner WHERE id = %s", [pet.pk])[0]
    assert db.execute("SELECT id_number FROM cases_petitioner WHERE id = ?", [pet.pk]).fetchone()[0] == stored
    last = AuditEntry.objects.order_by("-seq").first()
    assert db.execute("SELECT seq, hash FROM audit_auditentry ORDER BY seq DESC LIMIT 1").fetchone() == (last.seq, last.hash)
    db.close()
    restored_file = target / "media" / attachment.file.name
    assert restored_file.read_bytes() == "证明材料".encode()


def test_restore_refuses_a_database_in_use(world, tmp_path):
    archive = tmp_path / "b.tar.gz"
    bk.backup(archive)
    with pytest.raises(bk.BackupError, match="--force"):
        bk.restore(archive)


def test_forced_restore_brings_back_the_snapshot(world, tmp_path, cast):
    case, with_file = world
    archive = tmp_path / "b.tar.gz"
    manifest = bk.backup(archive)
    # changes after the backup: a new case, a deleted attachment file
    workflow.register_case(cast.registrar, petition_data(title="备份之后"), [workflow.PetitionerData(name="后来者")])
    attachment = with_file.attachments.get()
    os.remove(attachment.file.path)
    bk.restore(archive, force=True)
    assert bk.table_counts() == manifest["counts"]
    assert not Case.objects.filter(title="备份之后").exists()
    assert Case.objects.get(pk=case.pk).title == case.title
    assert open(attachment.file.path, "rb").read() == "证明材料".encode()
    assert verify()[2] == ""
    # keys continue after the restored ones
    later = workflow.register_case(cast.registrar, petition_data(title="恢复之后"), [workflow.PetitionerData(name="新人")])
    assert later.pk > max(case.pk, with_file.pk)


def test_a_damaged_archive_is_refused_and_changes_nothing(world, tmp_path):
    archive = tmp_path / "b.tar.gz"
    bk.backup(archive)
    # rewrite the archive with one case row altered but the manifest's checksum kept
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == "data/cases_case.jsonl":
                data = data.replace("小区电梯".encode(), "小区水管".encode())
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    before = bk.table_counts()
    with pytest.raises(bk.BackupError, match="校验和"):
        bk.restore(damaged, force=True)
    assert bk.table_counts() == before
    assert Case.objects.filter(title__startswith="小区电梯").exists()


def test_not_an_archive(db, tmp_path):
    bogus = tmp_path / "x.tar.gz"
    with tarfile.open(bogus, "w:gz") as tar:
        tar.add(__file__, arcname="hello.py")
    with pytest.raises(bk.BackupError, match="manifest"):
        bk.restore(bogus)
