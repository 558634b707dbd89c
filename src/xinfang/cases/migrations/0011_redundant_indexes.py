"""Indexes another index already serves, dropped: every case written (an import writes hundreds of
thousands) updated them for nothing. cases_case.bureau_id: the (bureau, year, seq) constraint;
cases_case.state (and PostgreSQL's pattern index of it): cases_case_state_due_idx (state, due_on);
cases_caseorgan.organ_id: case_organ_unique (organ, case). And PostgreSQL's pattern (`_like`)
indexes of the petitioners' encrypted ID numbers and phones: no pattern matches a ciphertext."""
import django.db.models.deletion
from django.db import migrations, models

from xinfang.migration_ops import drop_field_indexes


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0010_text_index_pending_list'),
        ('orgs', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='bureau',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='registered_cases', to='orgs.organ', verbose_name='登记机关'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='state',
                    field=models.CharField(choices=[('registered', '待转送'), ('pending', '待受理'), ('returned', '异议退回待确认'), ('handling', '办理中'), ('replied', '已答复'), ('review', '复查中'), ('reviewed', '已复查'), ('re_review', '复核中'), ('closed', '已办结')], default='registered', max_length=12, verbose_name='状态'),
                ),
                migrations.AlterField(
                    model_name='caseorgan',
                    name='organ',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='case_links', to='orgs.organ'),
                ),
            ],
            database_operations=[
                drop_field_indexes("cases", "case", ["bureau_id", "state"], like={"state": "varchar_pattern_ops"}),
                drop_field_indexes("cases", "caseorgan", ["organ_id"]),
                drop_field_indexes("cases", "petitioner", like={"id_number": "text_pattern_ops", "phone": "text_pattern_ops"}),
            ],
        ),
    ]
