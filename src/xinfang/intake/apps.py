from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IntakeConfig(AppConfig):
    name = "xinfang.intake"
    label = "intake"

    def ready(self):
        post_migrate.connect(_repair_text_index, dispatch_uid="xinfang.intake.repair_text_index")


def _repair_text_index(sender, using="default", **kwargs):
    """The case list's text index (xinfang.cases.search) loses its SQLite triggers whenever a
    migration rebuilds cases_case; put them back after every migrate."""
    if getattr(sender, "label", None) != "cases":
        return
    from django.db import connections

    from xinfang.cases.search import ensure_triggers

    ensure_triggers(connections[using])
