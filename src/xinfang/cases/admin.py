"""Topic tree management, and a read-only view of cases for administrators. Cases change only
through the workflow (workbench, API, CLI), never by editing rows here."""
from django.contrib import admin

from xinfang.admin import ReadOnlyAdmin

from .models import Case, Event, Petitioner, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("__str__", "parent", "sort", "is_active")
    list_filter = ("is_active", "parent")
    search_fields = ("name",)
    list_editable = ("sort", "is_active")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PetitionerInline(ReadOnlyInline):
    model = Petitioner
    fields = ("name", "is_representative")


class EventInline(ReadOnlyInline):
    model = Event
    fields = ("at", "action", "organ", "actor", "target_organ", "note")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "channel", "category", "state", "current_organ", "received_at", "due_on")
    list_filter = ("state", "category", "channel")
    search_fields = ("number", "title")
    date_hierarchy = "received_at"
    inlines = [PetitionerInline, EventInline]
