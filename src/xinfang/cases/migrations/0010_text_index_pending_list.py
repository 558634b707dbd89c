"""PostgreSQL: the trigram indexes keep a long pending list, emptied in bulk by
`xinfang.cases.search.merge_pending` (a writer no longer empties it in small steps as part of its
insert). SQLite: nothing."""

from django.db import migrations


def forwards(apps, schema_editor):
    from xinfang.cases.search import merge_pending, tune_pending_lists

    tune_pending_lists(schema_editor.connection)
    merge_pending(schema_editor.connection)


def backwards(apps, schema_editor):
    from xinfang.cases.search import merge_pending, tune_pending_lists

    merge_pending(schema_editor.connection)
    tune_pending_lists(schema_editor.connection, None)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_deferrable_text_index'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
