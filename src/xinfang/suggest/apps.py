from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuggestConfig(AppConfig):
    name = "xinfang.suggest"
    label = "suggest"
    verbose_name = _("分类建议")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the signal receivers)
