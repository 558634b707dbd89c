"""DirtyDay becomes append-only marks with their own id (no unique day): see the model. The
pending marks are carried over."""

import django.utils.timezone
from django.db import migrations, models


def carry_over(apps, schema_editor):
    old, new = apps.get_model("analytics", "OldDirtyDay"), apps.get_model("analytics", "DirtyDay")
    new.objects.bulk_create([new(day=d.day, marked_at=d.marked_at) for d in old.objects.all()])


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0001_initial'),
    ]

    operations = [
        migrations.RenameModel("DirtyDay", "OldDirtyDay"),
        migrations.CreateModel(
            name="DirtyDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(db_index=True)),
                ("marked_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel("OldDirtyDay"),
    ]
