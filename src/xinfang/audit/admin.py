from django.contrib import admin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the chain is append-only (`xinfang audit verify` checks it)."""

    list_display = ("seq", "at", "actor_name", "action", "object_type", "object_id")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_id", "action")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
