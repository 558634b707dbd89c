"""One form per workflow transition a handling page can start (every one except `register`).

A form only collects and type-checks the input; the service function it calls decides whether the
action is lawful (state, role, organ, windows, limits) and raises WorkflowError otherwise. Field
names match the service's keyword arguments, so a WorkflowError naming a `field` lands next to
that field.
"""
from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xinfang.cases import workflow
from xinfang.cases.models import (
    OUTCOMES_BY_CATEGORY, REVIEW_OUTCOMES, ROUTES_BY_CATEGORY, RouteKind, Satisfaction,
)
from xinfang.deadlines.models import Rule
from xinfang.orgs.models import Organ

TEXT_MAX = 5000


def _text(label, *, required=True, rows=4, help_text=""):
    return forms.CharField(label=label, required=required, max_length=TEXT_MAX, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


def _date(label, *, required=False, help_text=""):
    return forms.DateField(label=label, required=required, help_text=help_text,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class ActionForm(forms.Form):
    """Base: `submit(actor)` calls the transition's service with the cleaned data and returns the
    case; it may raise WorkflowError."""

    action: str = ""
    submit_label = _("提交")

    def __init__(self, *args, case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)

    def submit(self, actor):  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class RouteForm(ActionForm):
    action = "route"
    submit_label = _("转送/交办")
    kind = forms.ChoiceField(label=_("交转方式"), choices=RouteKind.choices, widget=forms.RadioSelect)
    organ = forms.ModelChoiceField(label=_("去向机关"), queryset=Organ.objects.none(), empty_label=_("请选择机关"))
    assigned_due = _date(_("交办期限"), help_text=_("交办时必填:交办机关指定的办结期限,承办机关须报送办结报告(条例第22条)"))
    note = _text(_("说明"), required=False, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = (Organ.objects.filter(is_active=True).exclude(pk=self.case.current_organ_id)
                                         .select_related("region").order_by("region__code", "kind", "name"))
        if not self.is_bound:
            # Pre-select the suggested organ and route (suggest app); staff check and decide.
            from xinfang.suggest.service import suggested_route

            organ_id, kind = suggested_route(self.case)
            if organ_id and organ_id != self.case.current_organ_id:
                self.fields["organ"].initial = organ_id
                if kind:
                    self.fields["kind"].initial = kind

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.route_case(actor, self.case, kind=d["kind"], organ=d["organ"], note=d["note"],
                                   assigned_due=d["assigned_due"])


class LegalChannel:
    """The legal channels a petitioner may be told to use instead (Art.22)."""

    CHOICES = [
        ("litigation", _("诉讼")), ("arbitration", _("仲裁")), ("admin_review", _("行政复议")),
        ("admin_ruling", _("行政裁决")), ("party_appeal", _("党员申诉")), ("other", _("其他")),
    ]


class InformForm(ActionForm):
    action = "inform"
    submit_label = _("告知并办结")
    channel = forms.ChoiceField(label=_("应当通过的法定途径"), choices=LegalChannel.CHOICES, widget=forms.RadioSelect)
    reason = _text(_("告知理由"), help_text=_("说明为何应通过该途径解决;选择“其他”时请写明具体途径"))

    def submit(self, actor):
        d = self.cleaned_data
        # The notice prints the channel's name (the service records it in Chinese), not its code.
        channel = dict(LegalChannel.CHOICES)[d["channel"]]
        return workflow.inform_case(actor, self.case, channel=channel, reason=d["reason"])


class NotAcceptForm(ActionForm):
    action = "not_accept"
    submit_label = _("不予受理")
    reason = _text(_("不予受理的理由和依据"), help_text=_("将载入不予受理告知书送达信访人"))

    def submit(self, actor):
        return workflow.not_accept_case(actor, self.case, reason=self.cleaned_data["reason"])


def routes_for(category: str) -> list:
    """Handling routes offered for a category (Art.29–31); the service checks the same table."""
    return ROUTES_BY_CATEGORY.get(category, [])


class AcceptForm(ActionForm):
    action = "accept"
    submit_label = _("受理并出具受理告知书")
    route = forms.ChoiceField(label=_("办理途径"), widget=forms.RadioSelect)
    track = forms.ChoiceField(label=_("办理程序"), widget=forms.RadioSelect, initial=workflow.TRACK_NORMAL, required=False,
                              choices=list(workflow.TRACKS.items()),
                              help_text=_("事实清楚、争议不大的简单事项可简易办理,适用较短的办结期限(简单信访马上办)"))
    note = _text(_("说明"), required=False, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        routes = routes_for(self.case.category)
        self.fields["route"].choices = [(r.value, r.label) for r in routes]
        if len(routes) == 1:
            self.fields["route"].initial = routes[0].value
        if self.case.assigned_due:
            # A 交办 case runs the assigner's deadline (Art.22): no track to choose.
            del self.fields["track"]
        else:
            simple = Rule.objects.filter(code=workflow.SIMPLE_RULE).first()
            if simple:
                self.fields["track"].choices = [
                    (workflow.TRACK_NORMAL, workflow.TRACKS[workflow.TRACK_NORMAL]),
                    (workflow.TRACK_SIMPLE, _("简易办理(%(days)s日内办结)") % {"days": simple.days})]

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.accept_case(actor, self.case, route=d["route"], note=d["note"],
                                    track=d.get("track") or workflow.TRACK_NORMAL)


class ObjectForm(ActionForm):
    action = "object"
    submit_label = _("提出异议并退回")
    reason = _text(_("不属于本机关职权范围的理由"), help_text=_("收到之日起5个工作日内提出(条例第23条)"))

    def submit(self, actor):
        return workflow.object_case(actor, self.case, reason=self.cleaned_data["reason"])


class DecideObjectionForm(ActionForm):
    action = "decide_objection"
    submit_label = _("提交处理意见")
    agree = forms.TypedChoiceField(
        label=_("是否同意退回"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
        choices=[("yes", _("同意退回,重新转送交办")), ("no", _("不同意,退回原机关受理"))],
    )
    note = _text(_("说明"), required=False, rows=3, help_text=_("不同意退回的,须说明理由"))

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.decide_objection(actor, self.case, agree=d["agree"], note=d["note"])


class ExtendForm(ActionForm):
    action = "extend"
    submit_label = _("批准延期")
    days = forms.IntegerField(label=_("延长天数"), min_value=1)
    reason = _text(_("延期理由"), help_text=_("理由将载入延期告知书告知信访人(条例第34条)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The upper bound is the editable 延期上限 rule (30 days by default, Art.34).
        limit = Rule.objects.filter(code="extension").values_list("days", flat=True).first() or 30
        self.fields["days"].max_value = limit
        self.fields["days"].validators.append(MaxValueValidator(limit))
        self.fields["days"].widget.attrs.update(min=1, max=limit)
        self.fields["days"].help_text = _("只能延长一次,最长%(n)s日,须经单位负责人批准(条例第34条)") % {"n": limit}

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.extend_deadline(actor, self.case, days=d["days"], reason=d["reason"])


class ReplyForm(ActionForm):
    action = "reply"
    submit_label = _("答复并出具意见书")
    outcome = forms.ChoiceField(label=_("处理结果"), widget=forms.RadioSelect)
    opinion = _text(_("处理意见"), rows=6)
    facts = _text(_("查明事实"), required=False, rows=5)
    basis = _text(_("法律政策依据"), required=False, rows=3)
    delivered_on = _date(_("送达日期"), help_text=_("意见书送达信访人的日期,复查申请期自次日起算(条例第35条)"))
    report = _text(_("办结报告"), required=False, rows=5, help_text=_("交办事项须向交办机关报送办结报告(条例第22条)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [(o.value, o.label) for o in OUTCOMES_BY_CATEGORY.get(self.case.category, [])]
        self.fields["delivered_on"].initial = timezone.localdate()
        if workflow.review_allowed(self.case):
            # A 信访处理意见书 must state the facts and the legal basis (Art.32).
            self.fields["facts"].required = self.fields["basis"].required = True
        if self.case.report_required:
            self.fields["report"].required = True
        else:
            del self.fields["report"]

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.reply_case(actor, self.case, outcome=d["outcome"], opinion=d["opinion"], facts=d["facts"],
                                   basis=d["basis"], delivered_on=d["delivered_on"], report=d.get("report", ""))


class EvaluateForm(ActionForm):
    action = "evaluate"
    submit_label = _("记录评价")
    organ_satisfaction = forms.ChoiceField(label=_("对承办机关的评价"), choices=Satisfaction.choices, widget=forms.RadioSelect)
    bureau_satisfaction = forms.ChoiceField(label=_("对信访部门的评价"), required=False, widget=forms.RadioSelect,
                                            choices=[("", _("未评价")), *Satisfaction.choices])

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.evaluate_case(actor, self.case, organ_satisfaction=d["organ_satisfaction"],
                                     bureau_satisfaction=d["bureau_satisfaction"])


class RequestReviewForm(ActionForm):
    action = "request_review"
    submit_label = _("登记复查申请")
    reason = _text(_("复查请求和理由"))
    requested_on = _date(_("申请日期"), help_text=_("信访人提出申请的日期,须在收到意见书之日起30日内(条例第35条)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requested_on"].initial = timezone.localdate()

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.request_review(actor, self.case, reason=d["reason"], requested_on=d["requested_on"])


class RequestReReviewForm(RequestReviewForm):
    action = "request_re_review"
    submit_label = _("登记复核申请")
    reason = _text(_("复核请求和理由"))
    requested_on = _date(_("申请日期"), help_text=_("信访人提出申请的日期,须在收到复查意见之日起30日内(条例第36条)"))

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.request_re_review(actor, self.case, reason=d["reason"], requested_on=d["requested_on"])


class ReviewForm(ActionForm):
    action = "review"
    submit_label = _("出具复查意见书")
    outcome = forms.ChoiceField(label=_("复查结果"), choices=[(o.value, o.label) for o in REVIEW_OUTCOMES],
                                widget=forms.RadioSelect)
    opinion = _text(_("复查意见"), rows=6)

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.issue_review_opinion(actor, self.case, outcome=d["outcome"], opinion=d["opinion"])


class ReReviewForm(ReviewForm):
    action = "re_review"
    submit_label = _("出具复核意见书")
    outcome = forms.ChoiceField(label=_("复核结果"), choices=[(o.value, o.label) for o in REVIEW_OUTCOMES],
                                widget=forms.RadioSelect)
    opinion = _text(_("复核意见"), rows=6, help_text=_("复核意见为终结意见,信访人以同一事实和理由再次提出的不再受理(条例第36条)"))

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.issue_re_review_opinion(actor, self.case, outcome=d["outcome"], opinion=d["opinion"])


class HearingForm(ActionForm):
    action = "hearing"
    submit_label = _("记录听证")
    days = forms.IntegerField(label=_("听证所用天数"), min_value=1, max_value=90,
                              help_text=_("听证时间不计入复核期限(条例第36条)"),
                              widget=forms.NumberInput(attrs={"min": 1, "max": 90}))
    note = _text(_("听证情况"))

    def submit(self, actor):
        d = self.cleaned_data
        return workflow.record_hearing(actor, self.case, days=d["days"], note=d["note"])


class CloseForm(ActionForm):
    action = "close"
    submit_label = _("办结归档")

    def submit(self, actor):
        return workflow.close_case(actor, self.case)


ACTION_FORMS: dict[str, type[ActionForm]] = {f.action: f for f in (
    RouteForm, InformForm, NotAcceptForm, AcceptForm, ObjectForm, DecideObjectionForm, ExtendForm, ReplyForm,
    EvaluateForm, RequestReviewForm, ReviewForm, RequestReReviewForm, HearingForm, ReReviewForm, CloseForm,
)}


class RecuseForm(forms.Form):
    """回避 (Art.28 ¶3): who steps aside from the case and why. Staff of the organ holding the case
    are offered; the service decides who may record it for whom."""

    user = forms.ModelChoiceField(label=_("回避人员"), queryset=None, empty_label=None,
                                  error_messages={"invalid_choice": _("所选人员不是当前办理机关的工作人员。")})
    reason = forms.CharField(label=_("回避理由"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("如与信访人或被反映人有亲属关系、利害关系等(条例第28条)"),
                             error_messages={"required": _("请填写回避理由。"), "max_length": _("回避理由不能超过1000字。")})

    def __init__(self, *args, case, actor, **kwargs):
        from xinfang.orgs.models import User

        super().__init__(*args, **kwargs)
        self.case, self.actor = case, actor
        staff = User.objects.filter(organ_id=case.current_organ_id, is_active=True).order_by("username")
        self.fields["user"].queryset = staff
        self.fields["user"].initial = actor.pk

    def submit(self):
        return workflow.recuse(self.actor, self.case, user=self.cleaned_data["user"], reason=self.cleaned_data["reason"])

