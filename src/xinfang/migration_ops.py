"""Operations the apps' migrations share."""
from __future__ import annotations

from django.db import migrations


def drop_field_indexes(app_label: str, model_name: str, columns=(), *, like: dict[str, str] | None = None):
    """A migration operation that drops the single-column indexes Django made for `columns` of a
    model (a field's `db_index`, a foreign key's index) and, on PostgreSQL, the pattern-matching
    indexes Django makes beside a text column's index (`_like`) for the columns of `like`
    ({column: operator class}); reversed, it creates them again.

    For indexes another index already serves: the field's state change goes beside it in a
    `SeparateDatabaseAndState`, so SQLite does not copy the whole table to alter the field (which
    it would for `AlterField`)."""
    like = like or {}

    def names(schema_editor, table):
        for column in columns:
            yield schema_editor._create_index_name(table, [column], suffix=""), column, None
        if schema_editor.connection.vendor == "postgresql":
            for column, opclass in like.items():
                yield schema_editor._create_index_name(table, [column], suffix="_like"), column, opclass

    def forwards(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        for name, _column, _opclass in names(schema_editor, table):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def backwards(apps, schema_editor):
        table = apps.get_model(app_label, model_name)._meta.db_table
        qn = schema_editor.quote_name
        for name, column, opclass in names(schema_editor, table):
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {qn(name)} ON {qn(table)} ({qn(column)}{' ' + opclass if opclass else ''})")

    return migrations.RunPython(forwards, backwards, elidable=False)
