from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "xinfang.dedup"
    label = "dedup"
