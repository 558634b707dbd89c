from django.contrib import admin

from xinfang.admin import ReadOnlyAdmin

from .models import RateCounter, Submission


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    """Which cases came in online and from which citizen account. The query code's hash and the
    form token are never shown; a lost code is replaced with `xinfang portal_code <number>`."""

    list_display = ["case", "account", "created_at"]
    fields = ["case", "account", "email", "created_at"]
    list_select_related = ["case", "account"]
    search_fields = ["case__number"]
    raw_id_fields = ["case", "account"]


@admin.register(RateCounter)
class RateCounterAdmin(admin.ModelAdmin):
    """The portal's rate counters: deleting a row lifts that limit at once (e.g. a bureau's shared
    address that reached the daily submission limit)."""

    list_display = ["key", "window_start", "count"]
    search_fields = ["key"]
    ordering = ["-window_start"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
