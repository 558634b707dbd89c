from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "xinfang.accounts"
    label = "accounts"
    verbose_name = "账号安全"

    def ready(self):
        from django.contrib import admin

        from . import signals  # noqa: F401  (login/logout audit receivers)
        from .views import admin_login

        # The admin's own login form would bypass the lockout and the second login step: it
        # sends everyone to the one login page instead.
        admin.site.login = admin_login
