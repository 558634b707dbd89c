from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "xinfang.mediation"
    label = "mediation"
