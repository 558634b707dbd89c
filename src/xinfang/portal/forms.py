"""The portal's forms. They check what a citizen can get wrong while typing, next to the field, in
Chinese; the law's own checks run again in `xinfang.cases.workflow` and its refusals are shown on
the same form. Attachments use the registration form's checks (type list, size, content sniffing).
"""
from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.cases.models import Category, Satisfaction
from xinfang.cases.validators import validate_id_number, validate_phone
from xinfang.cases.workflow import MAX_CONTENT, PetitionerData
from xinfang.intake.forms import ALLOWED_LABEL, MultipleFileField
from xinfang.orgs.models import Organ, OrganKind, User

MAX_PORTAL_FILES = 5
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class BureauChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organ) -> str:
        return obj.name


class SubmitForm(forms.Form):
    """A real-name online petition (Art.17, 19): who, where, what, and the privacy notice."""

    token = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}),
                           error_messages={"required": gettext_lazy("请填写姓名(实名提出,条例第19条)。"),
                                           "max_length": gettext_lazy("姓名不能超过50字。")})
    id_number = forms.CharField(label=gettext_lazy("身份证号码"), max_length=18,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
                                error_messages={"required": gettext_lazy("请填写身份证号码。"),
                                                "max_length": gettext_lazy("身份证号码应为18位。")})
    phone = forms.CharField(label=gettext_lazy("手机号码"), max_length=20,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
                            help_text=gettext_lazy("查询码将以短信发送到该号码。"),
                            error_messages={"required": gettext_lazy("请填写联系电话。")})
    email = forms.EmailField(label=gettext_lazy("电子邮箱(选填)"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             error_messages={"invalid": gettext_lazy("电子邮箱格式不正确。")})
    address = forms.CharField(label=gettext_lazy("通信地址"), max_length=200,
                              widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
                              help_text=gettext_lazy("用于寄送受理告知书、处理意见书等文书。"),
                              error_messages={"required": gettext_lazy("请填写通信地址,以便送达书面告知(条例第19条)。"),
                                              "max_length": gettext_lazy("地址不能超过200字。")})
    bureau = BureauChoiceField(label=gettext_lazy("向哪个信访部门提出"), queryset=Organ.objects.none(), empty_label="——",
                               error_messages={"required": gettext_lazy("请选择受理的信访部门。"),
                                               "invalid_choice": gettext_lazy("所选信访部门不存在。")})
    category = forms.ChoiceField(label=gettext_lazy("信访类别"), choices=Category.choices,
                                 widget=forms.RadioSelect,
                                 error_messages={"required": gettext_lazy("请选择信访类别。"),
                                                 "invalid_choice": gettext_lazy("请选择有效的信访类别。")})
    law_related = forms.BooleanField(label=gettext_lazy("该事项已由或应由法院、检察院、公安机关依法处理(涉法涉诉)"), required=False)
    accused_organ = forms.ModelChoiceField(
        label=gettext_lazy("被检举控告的单位(选填)"), queryset=Organ.objects.none(), required=False, empty_label="——",
        help_text=gettext_lazy("检举控告材料和您的信息不会转给被检举控告的单位(条例第30条)。"),
        error_messages={"invalid_choice": gettext_lazy("所选单位不存在。")})
    title = forms.CharField(label=gettext_lazy("标题"), max_length=100,
                            error_messages={"required": gettext_lazy("请填写标题。"),
                                            "max_length": gettext_lazy("标题不能超过100字。")})
    content = forms.CharField(label=gettext_lazy("事实、理由和请求"), max_length=MAX_CONTENT,
                              widget=forms.Textarea(attrs={"rows": 8}),
                              help_text=gettext_lazy("请写明具体事实、理由和您的请求(条例第19条)。"),
                              error_messages={"required": gettext_lazy("请填写信访内容。"),
                                              "max_length": gettext_lazy("信访内容不能超过20000字,较长材料请作为附件上传。")})
    attachments = MultipleFileField(label=gettext_lazy("附件(选填)"), required=False)
    privacy = forms.BooleanField(label=gettext_lazy("我已阅读并同意《个人信息处理告知》"),
                                 error_messages={"required": gettext_lazy("请阅读并同意个人信息处理告知后再提交。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bureau"].queryset = Organ.objects.filter(kind=OrganKind.BUREAU, is_active=True).order_by("level", "name")
        self.fields["accused_organ"].queryset = Organ.objects.filter(is_active=True).order_by("level", "name")
        self.fields["attachments"].help_text = _("最多%(n)s个文件;单个不超过 %(mb)s MB;类型:%(types)s。") % {
            "n": MAX_PORTAL_FILES, "mb": settings.MAX_UPLOAD_MB, "types": ALLOWED_LABEL}
        if self.fields["bureau"].queryset.count() == 1 and not self.is_bound:
            self.initial.setdefault("bureau", self.fields["bureau"].queryset.first().pk)

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not TOKEN_RE.match(token):
            raise ValidationError(_("表单已失效,请刷新页面后重新填写。"), code="token")
        return token

    def clean_name(self):
        value = self.cleaned_data["name"].strip()
        if not value:
            raise ValidationError(_("请填写姓名(实名提出,条例第19条)。"), code="required")
        return value

    def clean_id_number(self):
        return validate_id_number(self.cleaned_data["id_number"])

    def clean_phone(self):
        value = validate_phone(self.cleaned_data["phone"])
        if not value:
            raise ValidationError(_("请填写联系电话。"), code="required")
        return value

    def clean_title(self):
        value = self.cleaned_data["title"].strip()
        if not value:
            raise ValidationError(_("请填写标题。"), code="required")
        return value

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        if len(files) > MAX_PORTAL_FILES:
            raise ValidationError(_("最多上传%(n)s个附件。") % {"n": MAX_PORTAL_FILES}, code="too_many")
        return files

    def clean(self):
        data = super().clean()
        if data.get("accused_organ") and data.get("category") and data["category"] != Category.REPORT:
            self.add_error("accused_organ", _("只有检举控告类事项需要填写被检举控告的单位。"))
        return data

    def case_data(self) -> dict:
        d = self.cleaned_data
        return {"category": d["category"], "title": d["title"], "content": d["content"],
                "law_related": d["law_related"], "accused_organ": d.get("accused_organ"), "head_count": 1}

    def petitioner(self) -> PetitionerData:
        d = self.cleaned_data
        return PetitionerData(name=d["name"], id_number=d["id_number"], phone=d["phone"], address=d["address"].strip())


class TrackForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("信访事项编号"), max_length=40,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
                             error_messages={"required": gettext_lazy("请填写信访事项编号。")})
    code = forms.CharField(label=gettext_lazy("查询码"), max_length=20,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
                           error_messages={"required": gettext_lazy("请填写查询码。")})

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()


SATISFACTION_CHOICES = Satisfaction.choices


class EvaluateForm(forms.Form):
    """网上评: the handling organ and the petition bureau, rated separately."""

    organ_satisfaction = forms.ChoiceField(label=gettext_lazy("对承办机关的评价"), choices=SATISFACTION_CHOICES,
                                           widget=forms.RadioSelect,
                                           error_messages={"required": gettext_lazy("请评价承办机关。")})
    bureau_satisfaction = forms.ChoiceField(label=gettext_lazy("对信访部门的评价"), choices=SATISFACTION_CHOICES,
                                            widget=forms.RadioSelect,
                                            error_messages={"required": gettext_lazy("请评价信访部门。")})


class RequestForm(forms.Form):
    """A 复查 or 复核 request: what is asked for and why (Art.35, 36)."""

    reason = forms.CharField(label=gettext_lazy("请求和理由"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5}),
                             error_messages={"required": gettext_lazy("请填写申请的请求和理由。"),
                                             "max_length": gettext_lazy("请求和理由不能超过5000字。")})


class SignupForm(forms.Form):
    """A citizen account: no organ, no roles; it lists the petitions submitted while logged in."""

    username = forms.RegexField(label=gettext_lazy("用户名"), max_length=30, regex=r"^[A-Za-z0-9_.-]{4,30}$",
                                widget=forms.TextInput(attrs={"autocomplete": "username"}),
                                help_text=gettext_lazy("4至30位字母、数字或 _ . -"),
                                error_messages={"required": gettext_lazy("请填写用户名。"),
                                                "invalid": gettext_lazy("用户名应为4至30位字母、数字或 _ . -。")})
    full_name = forms.CharField(label=gettext_lazy("姓名"), max_length=50,
                                error_messages={"required": gettext_lazy("请填写姓名。")})
    password1 = forms.CharField(label=gettext_lazy("密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                error_messages={"required": gettext_lazy("请设置密码。")})
    password2 = forms.CharField(label=gettext_lazy("再次输入密码"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                error_messages={"required": gettext_lazy("请再次输入密码。")})

    def clean_username(self):
        value = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=value).exists():
            raise ValidationError(_("该用户名已被使用。"), code="taken")
        return value

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            user = User(username=data.get("username") or "", full_name=data.get("full_name") or "")
            try:
                password_validation.validate_password(p1, user)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def save(self) -> User:
        d = self.cleaned_data
        return User.objects.create_user(d["username"], password=d["password1"], full_name=d["full_name"])
