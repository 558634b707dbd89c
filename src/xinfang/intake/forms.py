"""Forms of the intake pages: registration (with petitioners and attachments, optionally routing on
the same screen) and the case-list filters.

The forms check what a user can get wrong while typing, in Chinese, next to the field. They do not
decide anything the law decides: `xinfang.cases.workflow.register_case` and `route_case` validate
again and their refusals are mapped back onto these forms by the view.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePath

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F
from django.db.models.functions import Coalesce
from django.forms import formset_factory
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinfang.cases.models import OPEN_STATES, Category, Channel, Petitioner, RouteKind, State, Topic
from xinfang.cases.search import MIN_INDEXED, SHORT_QUERY_DAYS, short_query_since, text_filter
from xinfang.cases.validators import validate_id_number, validate_phone
from xinfang.cases.workflow import MAX_CONTENT, MAX_REPRESENTATIVES, PetitionerData
from xinfang.orgs.models import Organ, Region

# Attachment types accepted at intake, by extension, with the leading bytes each must start with, so
# a renamed executable is refused too. (Office files: OLE2 for .doc/.xls, ZIP for .docx/.xlsx.)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
ALLOWED_UPLOADS: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "doc": (_OLE2,),
    "xls": (_OLE2,),
    "docx": (_ZIP,),
    "xlsx": (_ZIP,),
    "txt": (),  # checked as text below
}
ALLOWED_LABEL = "pdf、jpg、png、doc、docx、xls、xlsx、txt"
MAX_FILES = 20
MAX_TITLE = 200  # Case.title max_length


def max_upload_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


def check_upload(upload) -> None:
    """Refuse a file that is too large, of a type not on the list, or whose content is not what its
    extension claims. Raises ValidationError with a Chinese message naming the file."""
    name = PurePath(upload.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_UPLOADS:
        raise ValidationError(_("附件“%(name)s”的类型不允许上传,只接受 %(types)s 文件。") % {"name": name, "types": ALLOWED_LABEL},
                              code="file_type")
    if upload.size > max_upload_bytes():
        raise ValidationError(_("附件“%(name)s”超过 %(mb)s MB,请压缩或拆分后上传。") % {"name": name, "mb": settings.MAX_UPLOAD_MB},
                              code="file_size")
    if upload.size == 0:
        raise ValidationError(_("附件“%(name)s”是空文件。") % {"name": name}, code="file_empty")
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    signatures = ALLOWED_UPLOADS[ext]
    if signatures:
        ok = any(head.startswith(sig) for sig in signatures)
    else:
        ok = b"\x00" not in head and _decodes(head)
    if not ok:
        raise ValidationError(_("附件“%(name)s”的内容与其扩展名不符,请确认文件未损坏。") % {"name": name}, code="file_content")


def _decodes(head: bytes) -> bool:
    # The 4 KiB sample may cut a multi-byte character in half: allow a short tail.
    for encoding in ("utf-8", "gb18030"):
        for cut in range(4):
            try:
                head[: len(head) - cut].decode(encoding)
                return True
            except UnicodeDecodeError:
                continue
    return False


class LoginForm(AuthenticationForm):
    """Django's login form with its labels and messages in Chinese whatever the browser's language
    (the workbench is Chinese first; Django's own catalogue would follow Accept-Language)."""

    username = UsernameField(label=gettext_lazy("用户名"), max_length=150,
                             widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
                             error_messages={"required": gettext_lazy("请输入用户名。")})
    password = forms.CharField(label=gettext_lazy("密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               error_messages={"required": gettext_lazy("请输入密码。")})
    error_messages = {
        "invalid_login": gettext_lazy("用户名或密码不正确,请重新输入(密码区分大小写)。"),
        "inactive": gettext_lazy("该账号已停用,请联系系统管理员。"),
    }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); each is checked by check_upload."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        files = [f for f in files if f]
        if len(files) > MAX_FILES:
            raise ValidationError(_("一次最多上传%(n)s个附件。") % {"n": MAX_FILES}, code="too_many")
        errors = []
        for f in files:
            try:
                check_upload(f)
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return files


class TopicChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Topic) -> str:
        return f"{obj.parent.name} › {obj.name}" if obj.parent_id else obj.name


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name}({obj.code})"


def topic_queryset():
    """Active topics in tree order (each top-level topic followed by its children)."""
    return (Topic.objects.filter(is_active=True).select_related("parent")
            .order_by(Coalesce("parent__sort", "sort"), Coalesce("parent__name", "name"),
                      F("parent").asc(nulls_first=True), "sort", "name"))


def local_now_input() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class RegistrationForm(forms.Form):
    """One screen for a visit, letter, call, fax or online petition typed in by staff (Art.17, 19, 21),
    with an optional route on the same screen (Art.22)."""

    channel = forms.ChoiceField(label=gettext_lazy("信访形式"), choices=[("", "——")] + Channel.choices,
                                error_messages={"required": gettext_lazy("请选择信访形式。"),
                                                "invalid_choice": gettext_lazy("请选择有效的信访形式。")})
    received_at = forms.DateTimeField(
        label=gettext_lazy("收到时间"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": gettext_lazy("请填写收到时间。"), "invalid": gettext_lazy("收到时间格式不正确。")})
    category = forms.ChoiceField(label=gettext_lazy("信访类别"), choices=[("", "——")] + Category.choices,
                                 error_messages={"required": gettext_lazy("请选择信访类别。"),
                                                 "invalid_choice": gettext_lazy("请选择有效的信访类别。")})
    topic = TopicChoiceField(label=gettext_lazy("问题分类"), queryset=Topic.objects.none(), required=False,
                             empty_label="——", error_messages={"invalid_choice": gettext_lazy("所选问题分类不存在或已停用。")})
    region = RegionChoiceField(label=gettext_lazy("问题属地"), queryset=Region.objects.order_by("code"), required=False,
                               empty_label="——", error_messages={"invalid_choice": gettext_lazy("所选问题属地不存在。")})
    title = forms.CharField(label=gettext_lazy("标题"), max_length=MAX_TITLE,
                            error_messages={"required": gettext_lazy("请填写标题。"),
                                            "max_length": gettext_lazy("标题不能超过200字。")})
    content = forms.CharField(label=gettext_lazy("信访内容"), max_length=MAX_CONTENT, widget=forms.Textarea(attrs={"rows": 8}),
                              help_text=gettext_lazy("来电、走访按信访人所述如实记录(条例第19条)。"),
                              error_messages={"required": gettext_lazy("请填写信访内容。"),
                                              "max_length": gettext_lazy("信访内容不能超过20000字,较长材料请作为附件上传。")})
    skip_level = forms.BooleanField(label=gettext_lazy("越级"), required=False)
    group_visit = forms.BooleanField(label=gettext_lazy("集体访"), required=False)
    major_urgent = forms.BooleanField(label=gettext_lazy("重大紧急"), required=False)
    law_related = forms.BooleanField(label=gettext_lazy("涉法涉诉"), required=False)
    head_count = forms.IntegerField(label=gettext_lazy("人数"), min_value=1, max_value=100000, initial=1,
                                    error_messages={"required": gettext_lazy("请填写人数。"),
                                                    "invalid": gettext_lazy("人数应为整数。"),
                                                    "min_value": gettext_lazy("人数至少为1。"),
                                                    "max_value": gettext_lazy("人数过大,请核对。")})
    accused_organ = forms.ModelChoiceField(
        label=gettext_lazy("被反映单位"), queryset=Organ.objects.filter(is_active=True), required=False, empty_label="——",
        help_text=gettext_lazy("检举控告类填写;材料和检举人信息不会转给该单位(条例第30条)。"),
        error_messages={"invalid_choice": gettext_lazy("所选被反映单位不存在或已停用。")})
    related_number = forms.CharField(label=gettext_lazy("关联原事项编号"), max_length=40, required=False,
                                     error_messages={"max_length": gettext_lazy("编号不能超过40个字符。")})
    same_facts = forms.BooleanField(label=gettext_lazy("同一事实和理由"), required=False,
                                    help_text=gettext_lazy("与原事项为同一事实和理由的,系统将按条例第19、36条判断是否受理。"))
    attachments = MultipleFileField(label=gettext_lazy("附件"), required=False)

    # Register-and-route (登记并转送): used only when the "登记并转送" button is pressed.
    route_kind = forms.ChoiceField(label=gettext_lazy("交转方式"), choices=[("", "——")] + RouteKind.choices, required=False,
                                   error_messages={"invalid_choice": gettext_lazy("请选择有效的交转方式。")})
    route_organ = forms.ModelChoiceField(label=gettext_lazy("去向机关"), queryset=Organ.objects.filter(is_active=True),
                                         required=False, empty_label="——",
                                         error_messages={"invalid_choice": gettext_lazy("所选去向机关不存在或已停用。")})
    assigned_due = forms.DateField(label=gettext_lazy("交办期限"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                   help_text=gettext_lazy("仅交办时填写(条例第22条)。"),
                                   error_messages={"invalid": gettext_lazy("交办期限日期格式不正确。")})
    route_note = forms.CharField(label=gettext_lazy("交转说明"), max_length=2000, required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}),
                                 error_messages={"max_length": gettext_lazy("交转说明不能超过2000字。")})

    def __init__(self, *args, user, route: bool = False, **kwargs):
        """`user` is the registrar (related cases are looked up among the cases they may see);
        `route` is True when the user asked to register and route in one step."""
        super().__init__(*args, **kwargs)
        self.user, self.route = user, route
        self.fields["topic"].queryset = topic_queryset()
        organs = Organ.objects.filter(is_active=True).order_by("level", "name")
        self.fields["accused_organ"].queryset = organs
        self.fields["route_organ"].queryset = organs.exclude(pk=user.organ_id) if user.organ_id else organs
        self.fields["attachments"].help_text = _("可选择多个文件;单个不超过 %(mb)s MB;类型:%(types)s。") % {
            "mb": settings.MAX_UPLOAD_MB, "types": ALLOWED_LABEL}
        if not self.is_bound:
            self.initial.setdefault("received_at", local_now_input())
            self.initial.setdefault("head_count", 1)

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value and value > timezone.now():
            raise ValidationError(_("收到时间不能晚于当前时间。"), code="future")
        return value

    def clean_title(self):
        value = self.cleaned_data["title"].strip()
        if not value:
            raise ValidationError(_("请填写标题。"), code="required")
        return value

    def clean_related_number(self):
        number = self.cleaned_data["related_number"].strip().upper()
        if not number:
            return None
        # Only a case the registrar may see can be cited (visibility is decided by access.py).
        from xinfang.cases.access import cases_visible_to

        case = cases_visible_to(self.user).filter(number=number).first()
        if case is None:
            raise ValidationError(_("未找到编号为“%(number)s”的信访事项,或您无权查看该事项。") % {"number": number},
                                  code="related_missing")
        return case

    def clean(self):
        data = super().clean()
        if data.get("same_facts") and not data.get("related_number") and "related_number" not in self.errors:
            self.add_error("related_number", _("勾选“同一事实和理由”时,请填写关联原事项编号。"))
        if data.get("accused_organ") and data.get("category") and data["category"] != Category.REPORT:
            self.add_error("accused_organ", _("只有检举控告类事项需要填写被反映单位。"))
        if self.route:
            if not data.get("route_kind") and "route_kind" not in self.errors:
                self.add_error("route_kind", _("登记并转送时,请选择交转方式。"))
            if not data.get("route_organ") and "route_organ" not in self.errors:
                self.add_error("route_organ", _("登记并转送时,请选择去向机关。"))
            if data.get("route_kind") == RouteKind.ASSIGN and not data.get("assigned_due") and "assigned_due" not in self.errors:
                self.add_error("assigned_due", _("交办须指定办结期限。"))
        return data

    def case_data(self) -> dict:
        """The `data` argument of workflow.register_case."""
        d = self.cleaned_data
        return {
            "channel": d["channel"], "received_at": d["received_at"], "category": d["category"],
            "topic": d.get("topic"), "region": d.get("region"), "title": d["title"], "content": d["content"],
            "skip_level": d["skip_level"], "group_visit": d["group_visit"], "major_urgent": d["major_urgent"],
            "law_related": d["law_related"], "head_count": d["head_count"], "accused_organ": d.get("accused_organ"),
            "related_case": d.get("related_number"), "same_facts": d["same_facts"],
        }

    def route_args(self) -> dict:
        """Keyword arguments of workflow.route_case (when registering and routing)."""
        d = self.cleaned_data
        return {"kind": d["route_kind"], "organ": d["route_organ"], "note": d.get("route_note") or "",
                "assigned_due": d.get("assigned_due") if d["route_kind"] == RouteKind.ASSIGN else None}

    def check_head_count(self, petitioners: list[PetitionerData]) -> None:
        """A cross-form check: the head count covers every registered petitioner."""
        if self.cleaned_data.get("head_count") and self.cleaned_data["head_count"] < len(petitioners):
            self.add_error("head_count", _("人数不能少于登记的信访人数(当前登记%(n)s人)。") % {"n": len(petitioners)})


class PetitionerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("姓名"), max_length=50,
                           error_messages={"required": gettext_lazy("请填写信访人姓名。"),
                                           "max_length": gettext_lazy("姓名不能超过50字。")})
    id_number = forms.CharField(label=gettext_lazy("身份证号码"), max_length=18, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
                                error_messages={"max_length": gettext_lazy("身份证号码应为18位。")})
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel"}),
                            error_messages={"max_length": gettext_lazy("联系电话过长,请核对。")})
    address = forms.CharField(label=gettext_lazy("住址"), max_length=200, required=False,
                              error_messages={"max_length": gettext_lazy("住址不能超过200字。")})
    is_representative = forms.BooleanField(label=gettext_lazy("代表"), required=False)

    def clean_name(self):
        value = self.cleaned_data["name"].strip()
        if not value:
            raise ValidationError(_("请填写信访人姓名。"), code="required")
        return value

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        return validate_id_number(value) if value else ""

    def clean_phone(self):
        return validate_phone(self.cleaned_data["phone"])


class BasePetitionerFormSet(forms.BaseFormSet):
    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_few_forms": gettext_lazy("至少登记一名信访人(条例第19条)。"),
        "too_many_forms": gettext_lazy("一次登记的信访人过多,请分批登记或作为附件上传名单。"),
        "missing_management_form": gettext_lazy("信访人表格数据不完整,请刷新页面后重新填写。"),
    }

    def clean(self):
        if any(self.errors):
            return
        reps = sum(1 for f in self.forms if f.cleaned_data and not self._should_delete_form(f)
                   and f.cleaned_data.get("is_representative"))
        if reps > MAX_REPRESENTATIVES:
            raise ValidationError(
                _("多人采用走访形式提出同一信访事项的,推选代表不超过5人(条例第20条),当前为%(n)s人。") % {"n": reps},
                code="too_many_representatives")
        if not self.petitioners():
            raise ValidationError(_("至少登记一名信访人(条例第19条)。"), code="no_petitioner")

    def petitioners(self) -> list[PetitionerData]:
        return [PetitionerData(name=f.cleaned_data["name"], id_number=f.cleaned_data.get("id_number", ""),
                               phone=f.cleaned_data.get("phone", ""), address=f.cleaned_data.get("address", "").strip(),
                               is_representative=f.cleaned_data.get("is_representative", False))
                for f in self.forms if f.cleaned_data and not self._should_delete_form(f)]


PetitionerFormSet = formset_factory(
    PetitionerForm, formset=BasePetitionerFormSet, extra=0, min_num=1, validate_min=True,
    max_num=200, validate_max=True, absolute_max=200, can_delete=True,
)


# --------------------------------------------------------------------------- case list filters


FULL_NUMBER = re.compile(r"^[A-Z0-9]+-\d{4}-\d{6}$")  # workflow.next_case_number
GRADE_CHOICES = [("", gettext_lazy("全部")), ("near", gettext_lazy("临期")), ("overdue", gettext_lazy("超期"))]


class CaseFilterForm(forms.Form):
    """GET filters of the case list. Every filter maps to an indexed lookup; the free-text one goes
    through the trigram text index (xinfang.cases.search) from 3 characters, and a 2-character
    query scans only a recent window unless a start date is given."""

    number = forms.CharField(label=gettext_lazy("编号"), max_length=40, required=False,
                             help_text=gettext_lazy("完整编号或开头部分"),
                             error_messages={"max_length": gettext_lazy("编号不能超过40个字符。")})
    name = forms.CharField(label=gettext_lazy("信访人姓名"), max_length=50, required=False,
                           help_text=gettext_lazy("完整姓名"),
                           error_messages={"max_length": gettext_lazy("姓名不能超过50字。")})
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False,
                            help_text=gettext_lazy("完整号码(联系电话加密存储,只能按完整号码查询)"),
                            error_messages={"max_length": gettext_lazy("联系电话过长。")})
    id_number = forms.CharField(label=gettext_lazy("身份证号码"), max_length=18, required=False,
                                error_messages={"max_length": gettext_lazy("身份证号码应为18位。")})
    q = forms.CharField(label=gettext_lazy("标题或内容包含"), max_length=100, required=False,
                        help_text=lazy(lambda: _("至少2个字。3个字及以上检索全部事项;只有2个字时,只检索最近%(days)s天收到的事项,"
                                                 "查更早的请填写“收到日期自”。") % {"days": SHORT_QUERY_DAYS}, str)(),
                        error_messages={"max_length": gettext_lazy("关键词不能超过100字。")})
    state = forms.ChoiceField(label=gettext_lazy("状态"), required=False,
                              choices=[("", gettext_lazy("全部")), ("open", gettext_lazy("未办结"))] + State.choices,
                              error_messages={"invalid_choice": gettext_lazy("状态“%(value)s”无效。")})
    category = forms.ChoiceField(label=gettext_lazy("信访类别"), required=False,
                                 choices=[("", gettext_lazy("全部"))] + Category.choices,
                                 error_messages={"invalid_choice": gettext_lazy("信访类别“%(value)s”无效。")})
    channel = forms.ChoiceField(label=gettext_lazy("信访形式"), required=False,
                                choices=[("", gettext_lazy("全部"))] + Channel.choices,
                                error_messages={"invalid_choice": gettext_lazy("信访形式“%(value)s”无效。")})
    organ = forms.ModelChoiceField(label=gettext_lazy("当前机关"), required=False, queryset=Organ.objects.order_by("level", "name"),
                                   empty_label=gettext_lazy("全部"),
                                   error_messages={"invalid_choice": gettext_lazy("所选机关不存在。")})
    received_from = forms.DateField(label=gettext_lazy("收到日期自"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                    error_messages={"invalid": gettext_lazy("起始日期格式不正确,应为年-月-日。")})
    received_to = forms.DateField(label=gettext_lazy("收到日期至"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                  error_messages={"invalid": gettext_lazy("截止日期格式不正确,应为年-月-日。")})
    grade = forms.ChoiceField(label=gettext_lazy("期限状态"), required=False, choices=GRADE_CHOICES,
                              error_messages={"invalid_choice": gettext_lazy("期限状态“%(value)s”无效。")})

    def clean_number(self):
        return self.cleaned_data["number"].strip().upper()

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_phone(self):
        # Normalised exactly as registration stores it: phones are encrypted at rest
        # (cases/crypto.py), so only a whole number can be looked up.
        return validate_phone(self.cleaned_data["phone"])

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip()
        return validate_id_number(value) if value else ""

    def clean_q(self):
        value = self.cleaned_data["q"].strip()
        if value and len(value) < 2:
            raise ValidationError(_("关键词至少2个字。"), code="short")
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("截止日期不能早于起始日期。"))
        return data

    def filter(self, qs):
        """Apply the cleaned filters to `qs` (already limited to what the user may see)."""
        d = self.cleaned_data
        if d.get("number"):
            # A full number is an exact match on the unique index; anything shorter is a prefix
            # (e.g. "JZXF-2026").
            if FULL_NUMBER.match(d["number"]):
                qs = qs.filter(number=d["number"])
            else:
                # A range on the unique index, not LIKE: SQLite's LIKE ignores case and so never
                # uses the index, which made a prefix search a full scan over a million cases.
                qs = qs.filter(number__gte=d["number"], number__lt=d["number"] + "\U0010ffff")
        # Petitioner lookups go through an indexed subquery, so a case with several matching
        # petitioners still appears once.
        if d.get("name"):
            qs = qs.filter(pk__in=Petitioner.objects.filter(name=d["name"]).values("case_id"))
        if d.get("phone"):
            qs = qs.filter(pk__in=Petitioner.objects.filter(phone=d["phone"]).values("case_id"))
        if d.get("id_number"):
            qs = qs.filter(pk__in=Petitioner.objects.filter(id_number=d["id_number"]).values("case_id"))
        if d.get("q"):
            # Indexed for 3+ characters; a 2-character query scans, so only the last
            # SHORT_QUERY_DAYS days unless a start date is given (cases.search, as the help text says).
            qs = text_filter(qs, d["q"])
            if len(d["q"]) < MIN_INDEXED and not d.get("received_from"):
                qs = qs.filter(received_at__gte=short_query_since())
        if d.get("state") == "open":
            qs = qs.filter(state__in=OPEN_STATES)
        elif d.get("state"):
            qs = qs.filter(state=d["state"])
        if d.get("category"):
            qs = qs.filter(category=d["category"])
        if d.get("channel"):
            qs = qs.filter(channel=d["channel"])
        if d.get("organ"):
            qs = qs.filter(current_organ=d["organ"])
        if d.get("received_from"):
            qs = qs.filter(received_at__gte=_day_start(d["received_from"]))
        if d.get("received_to"):
            qs = qs.filter(received_at__lt=_day_start(d["received_to"] + dt.timedelta(days=1)))
        if d.get("grade"):
            today = timezone.localdate()
            # Same meaning as the inbox tabs 临期/超期: an open case's running duty.
            if d["grade"] == "overdue":
                qs = qs.filter(state__in=OPEN_STATES, due_on__lt=today)
            else:
                qs = qs.filter(state__in=OPEN_STATES, due_warn_on__lte=today, due_on__gte=today)
        return qs


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

