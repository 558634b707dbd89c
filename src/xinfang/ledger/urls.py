from django.urls import path

from . import views

app_name = "ledger"
urlpatterns = [
    path("import/", views.import_upload, name="import"),
    path("import/<int:pk>/", views.job_detail, name="job"),
    path("import/<int:pk>/resume/", views.job_resume, name="job_resume"),
    path("import/<int:pk>/errors.csv", views.job_errors, name="job_errors"),
    path("export/", views.export, name="export"),
]
