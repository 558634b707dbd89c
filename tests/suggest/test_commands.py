"""`xinfang model train|evaluate|stats|versions|seed-rules` on a small synthetic fixture."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from xinfang.orgs.models import Level, Organ, OrganKind
from xinfang.suggest.models import ModelVersion, Rule

from .conftest import HOUSING_TEXTS, LABOUR_TEXTS


def run(*args) -> str:
    out = io.StringIO()
    call_command("model", *args, stdout=out)
    return out.getvalue()


def test_train_creates_a_version_and_if_stale_waits_for_new_cases(cast, confirmed, settings):
    settings.SUGGEST_RETRAIN_AFTER = 5
    out = run("train", "--evaluate")
    assert "v1" in out and "16" in out and "macro-F1" in out
    version = ModelVersion.objects.get()
    assert version.metrics["topic_macro_f1"] > 0.5 and version.labels["topic"]
    assert "无需更新" in run("train", "--if-stale") and ModelVersion.objects.count() == 1
    settings.SUGGEST_RETRAIN_AFTER = 0
    run("train", "--if-stale")
    assert ModelVersion.objects.count() == 2
    assert "v2" in run("versions") and "v1" in run("versions")


def test_train_refuses_with_too_few_cases(cast):
    with pytest.raises(CommandError, match="无法训练"):
        run("train")


def test_evaluate_prints_per_class_figures_and_confusion_matrix(cast, confirmed):
    out = run("evaluate", "--target", "organ", "--folds", "4")
    assert "江州市住房和城乡建设局" in out and "江州市人力资源和社会保障局" in out
    assert "precision" in out and "macro-F1" in out and "混淆矩阵" in out and "4 折" in out


def test_evaluate_an_external_csv_in_gbk(tmp_path, db):
    lines = ["标题,正文,类别"] + [f"{t},{t}请处理,住建" for t in HOUSING_TEXTS] + [f"{t},{t}请处理,人社" for t in LABOUR_TEXTS]
    path = tmp_path / "labelled.csv"
    path.write_bytes("\n".join(lines).encode("gbk"))
    out = run("evaluate", "--csv", str(path), "--text-columns", "标题,正文", "--label-column", "类别")
    assert "住建" in out and "人社" in out and "16 条" in out
    with pytest.raises(CommandError, match="缺少列"):
        run("evaluate", "--csv", str(path), "--label-column", "label")


def test_stats_prints_acceptance(cast, rules, make_case):
    make_case(title="法院判决三年未执行", content="请求执行")
    out = run("stats")
    assert "责任单位" in out and "当前模型" in out


def test_seed_rules_for_the_demo_city_is_idempotent(cast):
    city = cast.city
    Organ.objects.create(name="中共临江市委政法委员会", short_name="临政法", code="LJZFW", level=Level.CITY,
                         kind=OrganKind.POLITICAL_LEGAL, region=city)
    Organ.objects.create(name="临江市纪委监委", short_name="临纪", code="LJJW", level=Level.CITY, kind=OrganKind.DISCIPLINE, region=city)
    assert "已创建规则" in run("seed-rules")
    names = set(Rule.objects.values_list("name", flat=True))
    assert "涉法涉诉:法院判决与执行" in names and "检举控告:党员干部违纪违法" in names
    assert all(r.route_kind in ("legal", "discipline") for r in Rule.objects.all())
    count = Rule.objects.count()
    run("seed-rules")
    assert Rule.objects.count() == count


def test_periodic_job_retrains_only_when_stale(cast, confirmed, settings):
    from xinfang.suggest.tasks import retrain_if_stale

    settings.SUGGEST_RETRAIN_AFTER = 100
    assert retrain_if_stale.call_local() == 1  # no version yet: train the first
    assert retrain_if_stale.call_local() is None
    assert ModelVersion.objects.count() == 1


def test_after_demo_load_trains_and_refreshes_waiting_cases(cast, confirmed, make_case):
    from xinfang.suggest.models import Suggestion
    from xinfang.suggest.seed import after_demo_load

    waiting = make_case(title="公司拖欠工资", content="老板欠薪三个月")
    assert Suggestion.objects.get(case=waiting).model_version is None  # no model when it came in
    version = after_demo_load()
    assert version.version == 1
    s = Suggestion.objects.get(case=waiting)
    assert s.model_version_id == version.pk and s.organ_id == cast.labour.pk
