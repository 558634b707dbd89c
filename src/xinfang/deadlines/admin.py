"""Administration of the holiday calendar and the time-limit rules. Saving either recomputes the
open deadlines (signals.py)."""
from django.contrib import admin

from .models import CalendarDay, CalendarYear, Rule


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "covered", "source", "updated_at")
    list_editable = ("covered",)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind", "date")
    date_hierarchy = "date"
    search_fields = ("name",)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "days", "unit", "warn_days", "is_duty", "article")
    list_editable = ("days", "unit", "warn_days")
    readonly_fields = ("code",)

    def has_add_permission(self, request):
        return False  # the workflow knows a fixed set of limits; only their values are settings

    def has_delete_permission(self, request, obj=None):
        return False
