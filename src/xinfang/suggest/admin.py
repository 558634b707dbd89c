"""The 分类处理清单 is edited here by administrators; model versions may be switched off (to fall
back to the previous one); stored suggestions are a read-only register."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from xinfang.admin import ReadOnlyAdmin

from .models import ModelVersion, Rule, Suggestion


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("name", "keywords", "organ", "route_kind", "set_category", "set_topic", "priority", "is_active")
    list_filter = ("is_active", "route_kind", "category")
    list_editable = ("priority", "is_active")
    search_fields = ("name", "keywords", "organ__name")
    filter_horizontal = ("topics",)
    autocomplete_fields = ()
    raw_id_fields = ("region",)
    fieldsets = (
        (None, {"fields": ("name", "priority", "is_active", "basis")}),
        (_("命中条件"), {"fields": ("keywords", "topics", "category", "region")}),
        (_("建议"), {"fields": ("organ", "route_kind", "set_category", "set_topic")}),
    )


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "trained_at", "n_samples", "is_active", "note")
    list_editable = ("is_active",)
    readonly_fields = ("version", "trained_at", "n_samples", "last_case_id", "metrics", "labels", "note")
    exclude = ("blob",)

    def has_add_permission(self, request):
        return False  # versions come from `xinfang model train`


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = ("case", "category", "category_confidence", "topic", "topic_confidence", "organ", "organ_source",
                    "category_accepted", "topic_accepted", "organ_accepted")
    list_filter = ("organ_source", "topic_source", "category_accepted", "topic_accepted", "organ_accepted")
    list_select_related = ("case", "topic", "organ")
    raw_id_fields = ("case",)
