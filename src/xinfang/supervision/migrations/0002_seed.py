"""Seed a starting spot-check checklist and the 红黑榜 metrics (both editable in the admin)."""
from django.db import migrations

CHECKLIST = [
    ("按期受理并书面告知信访人(条例第23条)", 15),
    ("办理途径选择正确(条例第29–31条)", 15),
    ("调查核实充分,事实清楚", 20),
    ("处理意见书要素齐全、依据准确(条例第32条)", 20),
    ("按期办结或依法延期(条例第34条)", 15),
    ("告知复查途径和期限(条例第35条)", 10),
    ("档案材料完整规范", 5),
]

# Codes as returned by xinfang.analytics.metrics.compute_metrics (REGULATION §7).
METRICS = [
    ("timely_acceptance", "及时受理率", 20, True),
    ("on_time_completion", "按期办结率", 25, True),
    ("satisfaction_organ", "满意率(承办机关)", 25, True),
    ("first_resolution", "一次性化解率", 20, True),
    ("repeat_rate", "重复信访率", 10, False),
]


def seed(apps, schema_editor):
    ChecklistItem = apps.get_model("supervision", "ChecklistItem")
    RankingMetric = apps.get_model("supervision", "RankingMetric")
    if not ChecklistItem.objects.exists():
        ChecklistItem.objects.bulk_create([ChecklistItem(text=t, weight=w, sort=i) for i, (t, w) in enumerate(CHECKLIST)])
    for i, (code, name, weight, higher) in enumerate(METRICS):
        RankingMetric.objects.get_or_create(code=code, defaults={"name": name, "weight": weight,
                                                                 "higher_is_better": higher, "sort": i})


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
