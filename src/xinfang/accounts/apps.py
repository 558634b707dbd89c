from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xinfang.accounts"
    label = "accounts"
    verbose_name = "账号安全"

    def ready(self):
        from . import signals  # noqa: F401  (login/logout audit receivers)
