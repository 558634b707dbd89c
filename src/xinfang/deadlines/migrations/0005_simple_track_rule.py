from django.db import migrations


def seed(apps, schema_editor):
    """Add the simplified track's limit (简易办理) to existing databases; idempotent."""
    from xinfang.deadlines.seed import seed_rules

    seed_rules(apps.get_model("deadlines", "Rule"))


def unseed(apps, schema_editor):
    Rule = apps.get_model("deadlines", "Rule")
    Deadline = apps.get_model("deadlines", "Deadline")
    if not Deadline.objects.filter(rule_id="simple_handle").exists():
        Rule.objects.filter(code="simple_handle").delete()


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0004_pending_deadlines")]
    operations = [migrations.RunPython(seed, unseed)]
