"""SQLite: the text index's triggers may leave a large import's batches to be indexed later
(xinfang.cases.search.defer_text_index / index_deferred); a table records the deferred id ranges.
PostgreSQL: nothing (its trigram indexes are kept by the server)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from xinfang.cases.search import upgrade_triggers

    upgrade_triggers(schema_editor.connection)


def backwards(apps, schema_editor):
    # Index whatever is still deferred; the deferrable triggers stay (with their empty table they
    # behave as the first ones did).
    from xinfang.cases.search import index_deferred

    index_deferred(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0008_covering_list_indexes'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
