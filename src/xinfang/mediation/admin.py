from django.contrib import admin

from xinfang.admin import ReadOnlyAdmin

from .models import Mediation, Mediator


@admin.register(Mediator)
class MediatorAdmin(admin.ModelAdmin):
    """The mediators' directory, kept by administrators."""

    list_display = ("name", "organ", "specialties", "languages", "serves_foreign", "serves_hk_macao", "is_active")
    list_filter = ("organ", "serves_foreign", "serves_hk_macao", "is_active")
    search_fields = ("name", "specialties", "languages")
    autocomplete_fields = ("user",)


@admin.register(Mediation)
class MediationAdmin(ReadOnlyAdmin):
    list_display = ("case", "organ", "mediator", "status", "referred_at", "concluded_at", "confirmed_on")
    list_filter = ("status", "organ")
