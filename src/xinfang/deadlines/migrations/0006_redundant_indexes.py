"""Indexes no query needs, dropped (every case written updated them): deadlines_deadline.due_on
(queries on it are about open deadlines, served by the (is_open, due_on) index, or about one case)
and PostgreSQL's pattern (`_like`) index of rule_id (a rule code is matched exactly)."""
from django.db import migrations, models

from xinfang.migration_ops import drop_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('deadlines', '0005_simple_track_rule'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='deadline',
                    name='due_on',
                    field=models.DateField(blank=True, null=True, verbose_name='到期日'),
                ),
            ],
            database_operations=[
                drop_field_indexes("deadlines", "deadline", ["due_on"], like={"rule_id": "varchar_pattern_ops"}),
            ],
        ),
    ]
