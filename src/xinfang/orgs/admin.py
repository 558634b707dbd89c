"""Administration of regions, organs and users (in Chinese, through the Django admin)."""
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Organ, Region, Role, User


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)


@admin.register(Organ)
class OrganAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "code", "level", "kind", "region", "parent", "is_active")
    list_filter = ("level", "kind", "is_active")
    search_fields = ("name", "short_name", "code")
    autocomplete_fields = ("region", "parent")


class RolesField(forms.TypedMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False,
                         label=_("角色"), **kwargs)


class StaffChangeForm(UserChangeForm):
    roles = RolesField()

    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class StaffCreationForm(UserCreationForm):
    roles = RolesField()

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "organ", "roles")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = ("username", "full_name", "organ", "role_list", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "organ__kind")
    search_fields = ("username", "full_name", "organ__name", "phone")
    autocomplete_fields = ("organ",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("人员信息"), {"fields": ("full_name", "organ", "roles", "phone", "email")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "organ", "roles", "password1", "password2")}),
    )

    @admin.display(description=_("角色"))
    def role_list(self, obj):
        return "、".join(str(label) for label in obj.role_labels())
