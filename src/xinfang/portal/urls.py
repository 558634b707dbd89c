from django.urls import path

from xinfang.documents.urls import FormatConverter  # noqa: F401  (registers the docfmt converter)

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("submit/", views.submit, name="submit"),
    path("submitted/<str:token>/", views.submitted, name="submitted"),
    path("track/", views.track, name="track"),
    path("forget/", views.forget, name="forget"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/evaluate/", views.evaluate, name="evaluate"),
    path("cases/<int:pk>/request/<str:kind>/", views.request_next_level, name="request"),
    path("cases/<int:pk>/documents/<int:doc_pk>.<docfmt:fmt>", views.document_download, name="document"),
    path("mine/", views.mine, name="mine"),
    path("login/", views.portal_login, name="login"),
    path("signup/", views.signup, name="signup"),
]
