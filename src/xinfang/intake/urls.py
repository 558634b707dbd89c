from django.urls import include, path

from . import views

urlpatterns = [
    # Login and logout live in xinfang.accounts (lockout, two-step login), under /accounts/.
    # Django's set_language view (the language switch in the top bar): POST language + next.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_register, name="case_register"),
]
