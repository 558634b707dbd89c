"""Forms of the coordination pages: they collect and type-check; services decide."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinfang.orgs.models import Region, User

from .models import AdviserKind, ConductKind


def _dt(label):
    return forms.DateTimeField(label=label, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                               input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class AssignForm(forms.Form):
    user = forms.ModelChoiceField(label=_("包片人员"), queryset=User.objects.none())
    region = forms.ModelChoiceField(label=_("包片区域"), queryset=Region.objects.all())
    since = forms.DateField(label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("说明"), required=False, max_length=200)

    def __init__(self, *args, organ=None, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(is_active=True)
        self.fields["user"].queryset = staff.filter(organ=organ) if organ is not None else staff.filter(organ__kind="bureau")


class CaseNumberField(forms.CharField):
    """A case typed by its number; the view resolves it through the access layer."""


class ConductForm(forms.Form):
    case_number = CaseNumberField(label=_("关联信访事项编号"), required=False, max_length=40,
                                  help_text=_("可不填;走访登记的,请填该次走访的信访事项编号"))
    kind = forms.ChoiceField(label=_("行为类型(条例第26条)"), choices=ConductKind.choices)
    occurred_at = _dt(_("发生时间"))
    place = forms.CharField(label=_("地点"), max_length=200)
    persons = forms.CharField(label=_("涉及人员"), required=False, max_length=200, help_text=_("只记事实,不作评价"))
    facts = forms.CharField(label=_("经过(只记事实)"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    dissuasion = forms.CharField(label=_("劝阻、批评或教育情况"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    police_referred = forms.BooleanField(label=_("已移交公安机关(条例第47条)"), required=False)
    police_station = forms.CharField(label=_("公安机关(派出所)"), required=False, max_length=100)


class AdviceForm(forms.Form):
    case_number = CaseNumberField(label=_("信访事项编号"), max_length=40)
    adviser_kind = forms.ChoiceField(label=_("身份"), choices=AdviserKind.choices)
    adviser_name = forms.CharField(label=_("姓名"), max_length=50)
    affiliation = forms.CharField(label=_("所在律所或调解组织"), required=False, max_length=100)
    given_at = _dt(_("咨询时间"))
    advice = forms.CharField(label=_("法律意见"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
