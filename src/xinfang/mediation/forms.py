"""Forms of the mediation pages; the services decide who may do what and check the rules."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.orgs.models import Organ, OrganKind

from .models import Mediator, Status


class ReferForm(forms.Form):
    organ = forms.ModelChoiceField(label=_("调解组织"), queryset=Organ.objects.none(), empty_label="——",
                                   error_messages={"required": _("请选择调解组织。"),
                                                   "invalid_choice": _("请选择在册的调解组织。")})
    mediator = forms.ModelChoiceField(label=_("调解员(选填)"), queryset=Mediator.objects.none(), required=False,
                                      help_text=_("不选由调解组织指派;涉外、涉港澳台纠纷可选择相应调解员"),
                                      error_messages={"invalid_choice": _("所选调解员不在册。")})
    note = forms.CharField(label=_("委托说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("纠纷要点、当事人意愿、需要注意的情况"),
                           error_messages={"max_length": _("委托说明不能超过2000字。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = Organ.objects.filter(kind=OrganKind.MEDIATION, is_active=True).order_by("name")
        self.fields["mediator"].queryset = Mediator.objects.filter(is_active=True).select_related("organ")


class SessionForm(forms.Form):
    held_at = forms.DateTimeField(label=_("时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                  input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
                                  error_messages={"required": _("请填写调解时间。"), "invalid": _("时间格式不正确。")})
    place = forms.CharField(label=_("地点"), max_length=200, error_messages={"required": _("请填写地点。")})
    participants = forms.CharField(label=_("参加人员"), max_length=500,
                                   error_messages={"required": _("请填写参加人员。")})
    notes = forms.CharField(label=_("调解情况"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}),
                            error_messages={"required": _("请填写调解情况。"), "max_length": _("调解情况不能超过5000字。")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["held_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class ConcludeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("调解结果"), widget=forms.RadioSelect,
                                choices=[(s.value, s.label) for s in (Status.AGREED, Status.SETTLED, Status.FAILED)],
                                error_messages={"required": _("请选择调解结果。")})
    terms = forms.CharField(label=_("协议内容"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 5}),
                            help_text=_("各方的权利义务,履行方式和期限;每行一条"))
    reason = forms.CharField(label=_("调解不成的原因"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ConfirmForm(forms.Form):
    court = forms.CharField(label=_("作出确认的人民法院"), max_length=100,
                            error_messages={"required": _("请填写作出确认的人民法院。")})
    confirmed_on = forms.DateField(label=_("确认日期"), widget=forms.DateInput(attrs={"type": "date"}),
                                   error_messages={"required": _("请填写确认日期。"), "invalid": _("日期格式不正确,应为年-月-日。")})
    number = forms.CharField(label=_("确认裁定书文号"), max_length=60, error_messages={"required": _("请填写确认裁定书文号。")})
