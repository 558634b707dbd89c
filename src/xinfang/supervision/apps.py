from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "xinfang.supervision"
    label = "supervision"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the hourly letter reminders with huey)
