from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeadlinesConfig(AppConfig):
    name = "xinfang.deadlines"
    label = "deadlines"
    verbose_name = _("期限与日历")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (recompute open deadlines when the calendar changes)
