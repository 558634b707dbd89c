"""Ledger export (xinfang.ledger.exporter): visibility, masking, Art.30, CSV injection, judgements
and the round trip into another bureau's system."""
from __future__ import annotations

import csv
import io

import pytest

from xinfang.cases import workflow
from xinfang.cases.models import Case, Category
from xinfang.ledger import exporter
from tests.conftest import VALID_ID

pytestmark = pytest.mark.django_db


def rows_for(user, qs=None) -> list[dict]:
    it = exporter.iter_rows(user, qs)
    header = next(it)
    return [dict(zip(header, r)) for r in it]


def test_export_has_the_ledger_columns_and_the_system_number(make_case, cast):
    case = make_case("replied")
    [r] = rows_for(cast.registrar)
    assert r["编号"] == case.number == r["系统编号"]
    assert (r["信访形式"], r["信访类别"], r["办理状态"], r["责任单位"]) == ("来信", "申诉求决类", "已答复", cast.housing.name)
    assert r["答复意见"] == "经调查,已责成物业限期维修。" and r["答复日期"].startswith("2026-06-01")
    assert r["证件号码"] == VALID_ID and r["联系电话"] == "13800138000"  # the registering bureau sees all


def test_visibility_another_organ_sees_nothing(make_case, cast):
    make_case("handling")
    assert rows_for(cast.other) == []
    assert len(rows_for(cast.handler)) == 1


def test_masking_for_an_organ_that_no_longer_holds_the_case(make_case, cast):
    case = make_case("handling")
    # The case is at 住建局; the city leader (oversight of the organs below) sees it, does not hold it.
    [r] = rows_for(cast.leader)
    assert r["证件号码"] == "1101**********4477" and r["联系电话"] == "138****8000"
    [r] = rows_for(cast.handler)  # the holder sees everything
    assert r["证件号码"] == VALID_ID
    assert case.pk


def test_report_never_exported_to_the_accused_organ(make_case, cast):
    make_case("registered", category=Category.REPORT, accused_organ=cast.urban, title="举报城管执法人员")
    assert rows_for(cast.accused) == []  # not visible at all (access.py, Art.30)
    # Even a user whose organ sits under the accused organ gets no reporter identity.
    from xinfang.orgs.models import Level, Organ, OrganKind, Role, User

    team = Organ.objects.create(name="城管执法大队", short_name="执法队", code="ZFD", level=Level.CITY,
                                kind=OrganKind.FUNCTIONAL, region=cast.city, parent=cast.urban)
    u = User.objects.create_user("team", organ=team, roles=[Role.SUPERVISOR])
    case = Case.objects.get()
    from xinfang.cases.models import CaseOrgan

    CaseOrgan.objects.create(case=case, organ=team)
    [r] = rows_for(u)
    assert (r["信访人"], r["证件号码"], r["联系电话"]) == ("", "", "")


def test_reporter_name_masked_for_an_overseer(make_case, cast):
    make_case("handling", category=Category.REPORT, accused_organ=cast.urban)
    [r] = rows_for(cast.leader)
    assert r["信访人"] == "刘**" and r["证件号码"].count("*") == 10


def test_csv_injection_neutralised(make_case, cast):
    make_case("registered", title="=HYPERLINK(\"http://x\",\"点我\")", content="+1 求助 @all -2")
    [r] = rows_for(cast.registrar)
    assert r["标题"].startswith("'=") and r["内容"].startswith("'+")
    assert exporter.neutralise("@SUM(1)") == "'@SUM(1)" and exporter.neutralise("正常") == "正常"


def test_judgements_from_dedup_and_suggest(make_case, cast, monkeypatch):
    first = make_case("registered")
    second = make_case("registered")
    monkeypatch.setattr(exporter, "export_judgements", lambda ids: {second.pk: (first.number, 0.9321)})
    monkeypatch.setattr(exporter, "export_suggestions", lambda ids: {second.pk: {
        "topic_suggested": "物业管理", "topic_confidence": 0.876, "organ_suggested": cast.housing.name,
        "category_suggested": "申诉求决类"}})
    rows = {r["系统编号"]: r for r in rows_for(cast.registrar)}
    r = rows[second.number]
    assert (r["疑似重复编号"], r["重复相似度"], r["建议问题分类"], r["建议分类置信度"], r["建议责任单位"]) == (
        first.number, "0.932", "物业管理", "0.876", cast.housing.name)
    assert rows[first.number]["疑似重复编号"] == "" and rows[first.number]["建议问题分类"] == ""


def test_without_the_judgement_services(make_case, cast, monkeypatch):
    make_case("registered")
    monkeypatch.setattr(exporter, "export_judgements", None)
    monkeypatch.setattr(exporter, "export_suggestions", None)
    [r] = rows_for(cast.registrar)
    assert r["疑似重复编号"] == "" and r["建议责任单位"] == ""


def test_paging_covers_every_case_once(make_case, cast, monkeypatch):
    monkeypatch.setattr(exporter, "CHUNK", 2)
    made = {make_case("registered").number for _ in range(5)}
    assert {r["系统编号"] for r in rows_for(cast.registrar)} == made


def test_round_trip_into_another_bureau(make_case, cast, tmp_path):
    from xinfang.ledger.importer import run_import
    from xinfang.ledger.models import ImportJob

    make_case("replied", title="=危险标题")
    make_case("handling", category=Category.SUGGESTION, petitioners=[
        workflow.PetitionerData(name="王五", id_number="", phone="13900139000")])
    csv_path, xlsx_path = tmp_path / "out.csv", tmp_path / "out.xlsx"
    assert exporter.write_csv(csv_path, None) == 2
    assert exporter.write_xlsx(xlsx_path, None) == 2
    for path, bureau_user in ((csv_path, cast.district_registrar), (xlsx_path, cast.district_registrar)):
        job = ImportJob.objects.create(bureau=bureau_user.organ, user=bureau_user, source_path=str(path), name=path.name)
        run_import(job)
        job.refresh_from_db()
        assert job.errors == 0, list(job.row_errors.values_list("row", "column", "reason"))
    imported = Case.objects.filter(bureau=cast.district_bureau)
    assert imported.count() == 2  # the XLSX run skipped what the CSV run imported
    replied = imported.get(title="=危险标题")
    original = Case.objects.get(bureau=cast.bureau, title="=危险标题")
    assert replied.state == "replied" and replied.ledger_row.source_no == original.number
    assert replied.ledger_row.extra["系统编号"] == original.number
    assert replied.events.get(action="reply").note == "经调查,已责成物业限期维修。"


def test_csv_stream_has_bom_and_parses(make_case, cast):
    make_case("registered")
    text = "".join(exporter.csv_chunks(cast.registrar))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["编号", "登记日期", "信访形式"] and len(rows) == 2
