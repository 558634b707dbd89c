"""Align the seeded 红黑榜 metric codes with xinfang.analytics.metrics (databases that ran the first
version of 0002_seed)."""
from django.db import migrations

RENAMES = {"on_time_closure": "on_time_completion", "satisfaction": "satisfaction_organ",
           "first_time_resolution": "first_resolution"}


def rename(apps, schema_editor):
    RankingMetric = apps.get_model("supervision", "RankingMetric")
    for old, new in RENAMES.items():
        if not RankingMetric.objects.filter(code=new).exists():
            RankingMetric.objects.filter(code=old).update(code=new)


class Migration(migrations.Migration):
    dependencies = [("supervision", "0002_seed")]
    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
