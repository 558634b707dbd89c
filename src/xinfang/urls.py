from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "信访工作平台管理"
admin.site.site_title = "信访工作平台"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("portal/", include("xinfang.portal.urls")),
    path("api/", include("xinfang.api.urls")),
    path("ledger/", include("xinfang.ledger.urls")),
    path("dedup/", include("xinfang.dedup.urls")),
    path("suggest/", include("xinfang.suggest.urls")),
    path("accounts/", include("xinfang.accounts.urls")),
    path("supervision/", include("xinfang.supervision.urls")),
    path("mediation/", include("xinfang.mediation.urls")),
    path("analytics/", include("xinfang.analytics.urls")),
    path("coordination/", include("xinfang.coordination.urls")),
    path("", include("xinfang.handling.urls")),
    path("", include("xinfang.intake.urls")),
    path("", include("xinfang.documents.urls")),
]
