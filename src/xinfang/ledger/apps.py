from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "xinfang.ledger"
    label = "ledger"
