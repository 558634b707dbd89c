from django.urls import path

from . import views

app_name = "suggest"
urlpatterns = [
    path("", views.index, name="index"),
    path("draft/", views.draft, name="draft"),
    path("case/<int:pk>/", views.case_panel, name="case"),
]
