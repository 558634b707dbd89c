from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "xinfang.analytics"
    label = "analytics"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from xinfang.cases.models import Case
        from xinfang.cases.signals import cases_created

        from . import signals, tasks  # noqa: F401  (tasks registers the scheduled jobs)

        post_save.connect(signals.on_case_saved, sender=Case, dispatch_uid="analytics_case_saved")
        post_delete.connect(signals.on_case_saved, sender=Case, dispatch_uid="analytics_case_deleted")
        cases_created.connect(signals.on_cases_created, sender=Case, dispatch_uid="analytics_cases_created")
        try:
            from xinfang.dedup.models import Link
        except ImportError:  # pragma: no cover
            pass
        else:
            post_save.connect(signals.on_link_saved, sender=Link, dispatch_uid="analytics_link_saved")
        try:
            from xinfang.mediation.models import Mediation
        except ImportError:  # pragma: no cover
            pass
        else:
            post_save.connect(signals.on_related_saved, sender=Mediation, dispatch_uid="analytics_mediation_saved")
