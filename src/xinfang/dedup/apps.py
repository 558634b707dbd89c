from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "xinfang.dedup"
    label = "dedup"
    verbose_name = "判重"

    def ready(self):
        from xinfang.cases.models import Case
        from xinfang.cases.signals import cases_created

        from .service import on_cases_created

        cases_created.connect(on_cases_created, sender=Case, dispatch_uid="xinfang.dedup.index")
