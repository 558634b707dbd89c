from django.apps import AppConfig


class HandlingConfig(AppConfig):
    name = "xinfang.handling"
    label = "handling"
