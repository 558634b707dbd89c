from django.db import migrations


def seed(apps, schema_editor):
    from xinfang.deadlines.seed import seed_calendar, seed_rules

    seed_rules(apps.get_model("deadlines", "Rule"))
    seed_calendar(apps.get_model("deadlines", "CalendarYear"), apps.get_model("deadlines", "CalendarDay"))


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
