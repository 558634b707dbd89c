from django.urls import path

from . import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/reveal/", views.case_reveal, name="case_reveal"),
    path("cases/<int:pk>/recuse/", views.case_recuse, name="case_recuse"),
    path("cases/<int:pk>/act/<str:action>/", views.case_action, name="case_action"),
    path("cases/<int:pk>/attachments/<int:att_pk>/", views.attachment_download, name="attachment_download"),
]
