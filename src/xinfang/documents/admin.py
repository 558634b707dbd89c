"""Documents in the admin: a read-only register. A document is a legal record; it is issued only by
the workflow services and never edited or deleted by hand."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from xinfang.admin import ReadOnlyAdmin

from .models import Document


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "organ", "case", "issued_at")
    list_filter = ("kind", "year")
    search_fields = ("number",)
    list_select_related = ("organ", "case")
    date_hierarchy = "issued_at"
    fields = ("number", "kind", "title", "organ", "case", "addressee", "for_petitioner", "issued_at", "issued_by",
              "fields", "downloads")
    readonly_fields = fields

    @admin.display(description=_("下载"))
    def downloads(self, obj):
        # Through the access-checked download view: uploaded media are never served directly.
        return format_html_join(" ", '<a href="{}">{}</a>', (
            (reverse("document_download", args=[obj.case_id, obj.pk, fmt]), fmt.upper()) for fmt in ("docx", "pdf")))
