from django.contrib import admin

from .models import ConductRecord, LegalAdvice, RegionAssignment


@admin.register(RegionAssignment)
class RegionAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "region", "organ", "since", "until", "assigned_by")
    list_filter = ("organ",)
    search_fields = ("user__username", "user__full_name", "region__name", "region__code")
    raw_id_fields = ("user", "region", "assigned_by")


@admin.register(ConductRecord)
class ConductRecordAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "kind", "place", "organ", "case", "police_referred", "recorded_by")
    list_filter = ("kind", "police_referred", "organ")
    raw_id_fields = ("case", "recorded_by")
    date_hierarchy = "occurred_at"


@admin.register(LegalAdvice)
class LegalAdviceAdmin(admin.ModelAdmin):
    list_display = ("given_at", "adviser_kind", "adviser_name", "case", "organ", "recorded_by")
    list_filter = ("adviser_kind", "organ")
    raw_id_fields = ("case", "recorded_by")
    date_hierarchy = "given_at"
