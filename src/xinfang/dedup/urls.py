from django.urls import path

from . import views

app_name = "dedup"
urlpatterns = [
    path("screen/", views.screen, name="screen"),
    path("case/<int:pk>/", views.case_panel, name="case_panel"),
    path("link/<int:pk>/<str:action>/", views.decide_link, name="decide"),
    path("compare/<int:a>/<int:b>/", views.compare, name="compare"),
    path("compare/draft/<int:b>/", views.compare_draft, name="compare_draft"),
]
