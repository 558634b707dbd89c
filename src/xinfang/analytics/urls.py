from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases/", views.drilldown, name="cases"),
    path("api/metrics", views.api_metrics, name="api_metrics"),
    path("export.xlsx", views.export, name="export"),
    path("refresh/", views.refresh_now, name="refresh"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/<str:fmt>/", views.report_download, name="report_download"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:pk>/ack/", views.alert_ack, name="alert_ack"),
    path("notices/", views.notices, name="notices"),
]
