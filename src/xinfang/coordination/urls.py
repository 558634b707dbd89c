from django.urls import path

from . import views

app_name = "coordination"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("regions/", views.regions, name="regions"),
    path("regions/<int:pk>/end/", views.region_end, name="region_end"),
    path("backlog/", views.backlog, name="backlog"),
    path("backlog.xlsx", views.backlog_xlsx, name="backlog_xlsx"),
    path("conduct/", views.conduct_list, name="conduct"),
    path("conduct/new/", views.conduct_new, name="conduct_new"),
    path("advice/", views.advice_list, name="advice"),
    path("advice/new/", views.advice_new, name="advice_new"),
]
