"""Account pages, mounted at /accounts/. The names are global (no namespace) because Django's
LOGIN_URL and every template use `login` / `logout`."""
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.login_verify, name="login_verify"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("totp/", views.totp_setup, name="totp_setup"),
    path("totp/disable/", views.totp_disable, name="totp_disable"),
    path("totp/recovery/", views.totp_recovery, name="totp_recovery"),
]
