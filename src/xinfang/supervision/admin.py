"""Admin: the spot-check checklist and the 红黑榜 weights are edited here; the supervision
records themselves are read-only registers (they change only through services.py)."""
from django.contrib import admin

from xinfang.admin import ReadOnlyAdmin

from .models import (
    CaseListing, ChecklistItem, Escalation, Instruction, LeaderAssignment, LetterReminder, RankingMetric, SpotCheck,
    SupervisionLetter,
)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["text", "weight", "sort", "is_active"]
    list_editable = ["weight", "sort", "is_active"]


@admin.register(RankingMetric)
class RankingMetricAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "weight", "higher_is_better", "is_active", "sort"]
    list_editable = ["weight", "higher_is_better", "is_active", "sort"]


@admin.register(SupervisionLetter)
class SupervisionLetterAdmin(ReadOnlyAdmin):
    list_display = ["document", "kind", "organ", "status", "answer_due", "issued_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["document", "organ"]
    raw_id_fields = ["case"]


@admin.register(LetterReminder)
class LetterReminderAdmin(ReadOnlyAdmin):
    list_display = ["letter", "grade", "recipient", "organ", "due_on", "created_at", "read_at"]
    list_filter = ["grade", "recipient"]
    list_select_related = ["letter", "organ"]


@admin.register(CaseListing)
class CaseListingAdmin(ReadOnlyAdmin):
    list_display = ["case", "organ", "listed_at", "cleared_at"]
    list_select_related = ["case", "organ"]


@admin.register(LeaderAssignment)
class LeaderAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["case", "leader", "assigned_on", "is_active"]
    list_select_related = ["case", "leader"]


@admin.register(Instruction)
class InstructionAdmin(ReadOnlyAdmin):
    list_display = ["case", "leader", "organ", "at", "read_at"]
    list_select_related = ["case", "leader", "organ"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["case", "to_organ", "to_level", "decided_on", "conference"]
    list_select_related = ["case", "to_organ"]


@admin.register(SpotCheck)
class SpotCheckAdmin(ReadOnlyAdmin):
    list_display = ["pk", "organ", "period_start", "period_end", "per_organ", "seed", "published_at"]
    list_select_related = ["organ"]
