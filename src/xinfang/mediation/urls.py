from django.urls import path

from . import views

app_name = "mediation"
urlpatterns = [
    path("", views.index, name="index"),
    path("cases/<int:case_pk>/refer/", views.refer, name="refer"),
    path("<int:pk>/", views.detail, name="detail"),
]
