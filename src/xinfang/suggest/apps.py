from django.apps import AppConfig


class SuggestConfig(AppConfig):
    name = "xinfang.suggest"
    label = "suggest"
