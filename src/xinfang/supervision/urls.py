from django.urls import path, register_converter

from . import views

app_name = "supervision"


class ExportConverter:
    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class DocFormatConverter(ExportConverter):
    regex = "docx|pdf"


register_converter(ExportConverter, "svexport")
register_converter(DocFormatConverter, "svdoc")

urlpatterns = [
    path("", views.desk, name="desk"),
    path("letters/", views.letters, name="letters"),
    path("letters/<int:pk>/", views.letter_detail, name="letter_detail"),
    path("letters/<int:pk>/answer/", views.letter_answer, name="letter_answer"),
    path("letters/<int:pk>/review/", views.letter_review, name="letter_review"),
    path("letters/<int:pk>.<svdoc:fmt>", views.letter_download, name="letter_download"),
    path("cases/<int:pk>/letter/", views.letter_issue, name="letter_issue"),
    path("cases/<int:pk>/listing/", views.case_listing, name="case_listing"),
    path("cases/<int:pk>/leader/", views.leader_assign, name="leader_assign"),
    path("cases/<int:pk>/leader/<int:assignment_pk>/end/", views.leader_end, name="leader_end"),
    path("cases/<int:pk>/instruction/", views.instruct, name="instruct"),
    path("cases/<int:pk>/escalate/", views.escalate, name="escalate"),
    path("cases/<int:pk>/escalate/<int:escalation_pk>/result/", views.escalation_result, name="escalation_result"),
    path("instructions/<int:pk>/read/", views.instruction_read, name="instruction_read"),
    path("reminders/read/", views.reminders_read, name="reminders_read"),
    path("leader/", views.leader_desk, name="leader_desk"),
    path("spot-checks/", views.spot_checks, name="spot_checks"),
    path("spot-checks/results/", views.spot_results, name="spot_results"),
    path("spot-checks/<int:pk>/", views.spot_check, name="spot_check"),
    path("spot-checks/<int:pk>/publish/", views.spot_publish, name="spot_publish"),
    path("spot-checks/items/<int:pk>/score/", views.spot_score, name="spot_score"),
    path("ranking/", views.ranking, name="ranking"),
    path("ranking.<svexport:fmt>", views.ranking, name="ranking_export"),
]
