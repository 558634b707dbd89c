"""API tokens in the admin (接口令牌): create (the secret is shown once), list, revoke."""
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ApiToken, digest, new_secret


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "expires_at", "last_used_at", "status")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username", "user__full_name")
    raw_id_fields = ("user",)
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

    @admin.display(description=gettext_lazy("状态"))
    def status(self, obj):
        return obj.status_label

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "user", "expires_at")
        return ("name", "user", "expires_at", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        # A token's holder cannot change after it is issued (a new user needs a new token).
        return (*self.readonly_fields, "user") if obj else ()

    def save_model(self, request, obj, form, change):
        if not change:
            raw = new_secret()
            obj.prefix, obj.key_hash, obj.created_by = raw[:10], digest(raw), request.user
            obj._raw_secret = raw
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        """Show the secret once, on this response only (never in a message cookie or a log)."""
        response = TemplateResponse(request, "admin/api/token_created.html",
                                    {**self.admin_site.each_context(request), "token": obj, "raw": obj._raw_secret,
                                     "title": _("令牌已创建")})
        response["Cache-Control"] = "no-store"
        return response

    def has_delete_permission(self, request, obj=None):
        # Revoke instead: the record of who had access stays.
        return False

    @admin.action(description=gettext_lazy("吊销所选令牌"))
    def revoke_tokens(self, request, queryset):
        n = sum(1 for t in queryset if t.revoke())
        self.message_user(request, _("已吊销%(n)s个令牌。") % {"n": n}, messages.SUCCESS)
