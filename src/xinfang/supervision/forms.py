"""Forms of the supervision pages. A form only collects and type-checks input; the service in
`services.py` decides whether the action is allowed and raises WorkflowError otherwise (field names
match the services' keyword arguments, so an error lands next to its field)."""
from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.orgs.models import Organ, User

from .models import ADOPTION_CHOICES, LetterKind

TEXT_MAX = 5000


def _text(label, *, required=True, rows=3, help_text=""):
    return forms.CharField(label=label, required=required, max_length=TEXT_MAX, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


def _date(label, *, required=True, help_text=""):
    return forms.DateField(label=label, required=required, help_text=help_text,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def _organs():
    return Organ.objects.filter(is_active=True).select_related("region").order_by("region__code", "kind", "name")


class LetterForm(forms.Form):
    kind = forms.ChoiceField(label=_("函件类型"), choices=LetterKind.choices)
    organ = forms.ModelChoiceField(label=_("主送机关"), queryset=Organ.objects.none(), empty_label=_("请选择机关"),
                                   help_text=_("完善政策建议送同级人民政府;追究责任建议送对有关人员有管理权限的机关(条例第40条)"))
    reason = _text(_("督办事由"), help_text=_("发现的问题,如超期未办、推诿敷衍、化解不力等"))
    requirement = _text(_("工作要求或建议内容"), required=False)
    answer_due = _date(_("答复期限"), required=False, help_text=_("留空按系统设置的答复期限计算"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = _organs()


class AnswerForm(forms.Form):
    adoption = forms.ChoiceField(label=_("采纳情况"), choices=[("", "—"), *ADOPTION_CHOICES], required=False,
                                 help_text=_("三项建议须说明是否采纳"))
    answer = _text(_("书面答复"), rows=5, help_text=_("办理情况、采取的措施或采纳情况"))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("审核意见"), choices=[("close", _("办结")), ("return", _("退回重新答复"))],
                                 widget=forms.RadioSelect)
    note = _text(_("说明"), required=False)


class ReasonForm(forms.Form):
    reason = _text(_("理由"))


class LeaderForm(forms.Form):
    leader = forms.ModelChoiceField(label=_("包案领导"), queryset=User.objects.none(), empty_label=_("请选择领导"))
    assigned_on = _date(_("包案日期"))
    note = _text(_("说明"), required=False, rows=2)

    def __init__(self, *args, leaders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = User.objects.filter(pk__in=[u.pk for u in leaders])
        self.fields["assigned_on"].initial = timezone.localdate()


class InstructionForm(forms.Form):
    text = _text(_("批示内容"))


class EscalationForm(forms.Form):
    conference = forms.CharField(label=_("联席会议"), max_length=200, help_text=_("会议名称或纪要编号"))
    decided_on = _date(_("决定日期"))
    to_organ = forms.ModelChoiceField(label=_("提级至机关"), queryset=Organ.objects.none(), empty_label=_("请选择机关"))
    reason = _text(_("提级理由"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_organ"].queryset = _organs()
        self.fields["decided_on"].initial = timezone.localdate()


class ResultForm(forms.Form):
    result = _text(_("调度结果"))


class SpotCheckForm(forms.Form):
    start = _date(_("办结起始日"))
    end = _date(_("办结截止日"))
    per_organ = forms.IntegerField(label=_("每单位抽取件数"), min_value=1, max_value=200, initial=5)
    seed = forms.CharField(label=_("随机种子"), max_length=64, required=False,
                           help_text=_("留空则自动生成;使用相同种子可复现同一抽样结果"))
    organs = forms.ModelMultipleChoiceField(label=_("被抽查单位"), queryset=Organ.objects.none(), required=False,
                                            help_text=_("不选则抽查辖区内全部单位"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organs"].queryset = _organs()


class ScoreForm(forms.Form):
    met = forms.MultipleChoiceField(label=_("符合的检查项"), required=False, widget=forms.CheckboxSelectMultiple)
    note = _text(_("评查意见"), required=False, rows=2)

    def __init__(self, *args, checklist=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["met"].choices = [(str(p["id"]), f"{p['text']}({p['weight']})") for p in checklist]

