"""Indexes another index already serves, dropped: dedup_link.case_id (dedup_link_unique (case,
earlier)) and dedup_link.root_id (the (root, kind) index)."""
import django.db.models.deletion
from django.db import migrations, models

from xinfang.migration_ops import drop_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0011_redundant_indexes'),
        ('dedup', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='link',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='dedup_links', to='cases.case', verbose_name='信访事项'),
                ),
                migrations.AlterField(
                    model_name='link',
                    name='root',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cases.case', verbose_name='首次信访事项'),
                ),
            ],
            database_operations=[
                drop_field_indexes("dedup", "link", ["case_id", "root_id"]),
            ],
        ),
    ]
