"""Downloading a case's documents, through the one access layer (xinfang.cases.access)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

from xinfang.audit.log import append as audit
from xinfang.cases.access import get_case_for_user

from .models import Document
from .render import CONTENT_TYPES, PdfFontMissing, ensure_files


@login_required
@require_GET
def document_download(request, case_pk: int, doc_pk: int, fmt: str):
    """Serve a document of a case the user may see, as DOCX or PDF, and record the download.

    A case the user may not see, or a document that is not of that case, is 404 (never 403), so
    neither's existence leaks. Files are rendered on the first download (render.ensure_files).
    """
    if fmt not in CONTENT_TYPES:
        raise Http404
    case = get_case_for_user(request.user, case_pk)
    document = Document.objects.filter(pk=doc_pk, case=case).select_related("case", "organ").first()
    if document is None:
        raise Http404
    try:
        ensure_files(document)
    except PdfFontMissing as exc:
        # A deployment problem, not the user's: say what the administrator must install.
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    audit(request.user, "document.download", document, case=case.number, number=document.number, format=fmt)
    stored = document.pdf if fmt == "pdf" else document.docx
    return FileResponse(stored.open("rb"), as_attachment=True, filename=f"{document.number}{document.title}.{fmt}",
                        content_type=CONTENT_TYPES[fmt])
