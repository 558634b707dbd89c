from django.apps import AppConfig


class XinfangConfig(AppConfig):
    name = "xinfang"
    verbose_name = "信访"
