"""Administrators lift login locks and reset a user's two-step login here (each audited)."""
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import throttle, totp
from .models import Lockout, TOTPDevice


@admin.register(Lockout)
class LockoutAdmin(admin.ModelAdmin):
    list_display = ("key", "scope", "failures", "created_at", "until", "unlocked_at", "unlocked_by")
    list_filter = ("scope",)
    search_fields = ("key",)
    actions = ["unlock"]
    readonly_fields = ("scope", "key", "failures", "created_at", "until", "unlocked_at", "unlocked_by")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("解除所选锁定"), permissions=["change"])
    def unlock(self, request, queryset):
        done = sum(throttle.unlock(lock, request.user) for lock in queryset)
        self.message_user(request, ngettext("已解除 %d 个锁定。", "已解除 %d 个锁定。", done) % done, messages.SUCCESS)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "confirmed_at")
    search_fields = ("user__username", "user__full_name")
    actions = ["reset"]
    fields = ("user", "created_at", "confirmed_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重置所选用户的两步验证"), permissions=["change"])
    def reset(self, request, queryset):
        done = sum(totp.disable(device.user, request.user) for device in queryset.select_related("user"))
        self.message_user(request, ngettext("已重置 %d 个用户的两步验证。", "已重置 %d 个用户的两步验证。", done) % done,
                          messages.SUCCESS)
