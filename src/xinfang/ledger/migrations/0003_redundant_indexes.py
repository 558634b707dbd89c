"""Indexes another index already serves, dropped (every imported row updated them):
ledger_ledgerrow.bureau_id (ledger_row_unique_source_no (bureau, source_no)) and
ledger_ledgerrow.job_id (ledger_row_job_case (job, case))."""
import django.db.models.deletion
from django.db import migrations, models

from xinfang.migration_ops import drop_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0002_job_case_index'),
        ('orgs', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='ledgerrow',
                    name='bureau',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='orgs.organ', verbose_name='登记机关'),
                ),
                migrations.AlterField(
                    model_name='ledgerrow',
                    name='job',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='ledger.importjob'),
                ),
            ],
            database_operations=[
                drop_field_indexes("ledger", "ledgerrow", ["bureau_id", "job_id"]),
            ],
        ),
    ]
