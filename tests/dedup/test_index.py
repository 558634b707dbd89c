"""The index finds edited, reordered, typo'd and summarised texts, and not other matters."""
from django.core.management import call_command

from xinfang.dedup import index, service
from xinfang.dedup.models import Band, Link, Signature

from .conftest import PERSON

ORIGINAL = ("本人住在东湖区幸福里小区3栋2单元,小区电梯自今年3月起多次发生故障,有一次还把老人困在里面半个小时。"
            "我们多次向物业公司反映,物业一直以维修资金没有到位为由拖延不修。小区住户大多是老人和小孩,上下楼非常困难。"
            "请求有关部门督促物业公司尽快维修电梯,保障居民出行安全。")


def _find(title, content, petitioners=()):
    return {f.case_id: f for f in index.find(title, content, list(petitioners))}


def test_variants_are_found(register):
    case = register(title="幸福里小区电梯故障物业拖延不修", content=ORIGINAL)
    register(title="小区路灯损坏", content="东湖区幸福里小区门口的路灯坏了两个月,晚上出行很不安全,请求尽快修复路灯。")
    edited = ORIGINAL.replace("半个小时", "二十多分钟").replace("请求有关部门", "再次恳请") + "这个问题已经反映过多次。"
    sentences = ORIGINAL.split("。")
    reordered = "。".join([sentences[2], sentences[0], sentences[1], sentences[3]])
    typos = ORIGINAL.replace("电梯", "电悌", 1).replace("物业", "务业", 1).replace("维修", "维休", 1)
    for variant in (ORIGINAL, edited, reordered, typos):
        assert case.pk in _find("幸福里小区电梯故障", variant), variant
    # A clerk's short summary of a call is found through the caller's identity and verified by text.
    summary = "来电反映幸福里小区3栋电梯自3月起多次故障,物业拖延不修,要求督促维修。"
    assert case.pk in _find("电梯故障", summary, [{"phone": "138-0013-8000"}])
    assert case.pk not in _find("小区门口停车难", "东湖区幸福里小区门口停车位不足,外来车辆乱停,请求规划停车位。", [PERSON])


def test_person_keys_do_not_store_raw_values(register):
    register()
    from xinfang.dedup.models import PersonKey

    keys = set(PersonKey.objects.values_list("key", flat=True))
    assert keys == index.person_keys(**PERSON)
    assert all(isinstance(k, int) for k in keys)
    assert index.person_keys(phone="+86 138 0013 8000") <= keys


def test_reindex_rebuilds_missing_and_all(register, capsys):
    a = register(content=ORIGINAL)
    b = register(content=ORIGINAL + "再次反映。")
    Signature.objects.all().delete()
    Link.objects.all().delete()
    call_command("dedup", "reindex")
    assert Signature.objects.count() == 2 and Band.objects.filter(case_id=a.pk).exists()
    assert Link.objects.filter(case=b, earlier=a).exists()
    call_command("dedup", "reindex", "--all")
    assert Signature.objects.count() == 2
    assert "判重索引完成" in capsys.readouterr().out


def test_export_judgements_skips_dismissed_and_invisible(register, cast):
    a = register(content=ORIGINAL)
    b = register(content=ORIGINAL + "再次反映。")
    link = Link.objects.get(case=b)
    assert service.export_judgements([a.pk, b.pk], user=cast.registrar) == {b.pk: (a.number, link.score)}
    assert service.export_judgements([b.pk], user=cast.other) == {}
    service.decide(cast.registrar, link, "dismiss")
    assert service.export_judgements([b.pk]) == {}


def test_a_batch_links_repeats_inside_itself_once(register):
    from xinfang.dedup.models import PersonKey

    a = register(content=ORIGINAL)
    b = register(content=ORIGINAL + "再次反映。")
    for model in (Band, PersonKey, Signature, Link):
        model.objects.all().delete()
    assert index.index_cases([b.pk, a.pk]) == 1  # as an import batch would send them
    assert list(Link.objects.values_list("case_id", "earlier_id", "kind")) == [(b.pk, a.pk, "repeat")]
    assert index.index_cases([a.pk, b.pk]) == 0  # already indexed: a rerun changes nothing


def test_int_array_is_the_postgresql_array_literal():
    assert index.int_array([]) == "{}"
    assert index.int_array([3, -9223372036854775808, 0]) == "{3,-9223372036854775808,0}"
    assert index.int_array((1, None, 2)) == "{1,NULL,2}"


def test_rows_in_reads_thousands_of_ids_in_chunks(register):
    """The lookups behind screening read ids a chunk at a time, as an array parameter on
    PostgreSQL and as placeholders on SQLite, with the same rows either way."""
    cases = [register(title=f"路灯损坏{i}", content=f"东湖区第{i}路的路灯坏了两个月,晚上出行很不安全。") for i in range(3)]
    ids = [c.pk for c in cases] + list(range(10**9, 10**9 + 7000))  # ids that do not exist, over a chunk
    sql = "SELECT id FROM cases_case WHERE id IN ({ids})"
    assert sorted(pk for (pk,) in index._rows_in(sql, ids)) == sorted(c.pk for c in cases)
    assert index._indexed(ids) == {c.pk for c in cases}  # registered cases are screened and indexed
