from django.urls import path, register_converter

from . import views


class FormatConverter:
    """The file formats a document is served in."""

    regex = "docx|pdf"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "docfmt")

urlpatterns = [
    path("cases/<int:case_pk>/documents/<int:doc_pk>.<docfmt:fmt>", views.document_download, name="document_download"),
]
