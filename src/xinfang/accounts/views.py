"""Account pages: login (with lockout and the optional second step), logout, password change,
and the TOTP enrolment page."""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from xinfang.audit.log import append

from . import throttle, totp
from .forms import CodeForm, EnrolForm, ThrottledLoginForm, locked_message

PENDING = "xf_pending_login"
PENDING_SECONDS = 300  # the second step must follow the password within five minutes


class LoginView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if totp.has_totp(user):
            # Password right, second step still to come: remember who, not logged in yet.
            self.request.session.cycle_key()
            self.request.session[PENDING] = {"uid": user.pk, "backend": user.backend, "at": time.time(),
                                             "next": self.get_success_url()}
            return HttpResponseRedirect(reverse("login_verify"))
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.GET.get("expired", "") in {"idle", "absolute"}
        return context


class LogoutView(auth_views.LogoutView):
    pass


@sensitive_post_parameters()
@csrf_protect
@never_cache
def login_verify(request):
    """Second login step: a current authenticator code or a recovery code."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        messages.info(request, _("请重新输入用户名和密码。"))
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["uid"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING, None)
        return redirect("login")
    ip = throttle.client_ip(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if throttle.check(user.get_username(), ip) is not None:
            request.session.pop(PENDING, None)
            form.add_error(None, locked_message())
        else:
            used = totp.verify(user, form.cleaned_data["code"])
            if used:
                request.session.pop(PENDING, None)
                auth_login(request, user, backend=pending["backend"])
                if used == "recovery":
                    left = user.totp_device.recovery_codes.filter(used_at__isnull=True).count()
                    messages.warning(request, _("您使用了一个恢复码,还剩 %(n)d 个。请尽快在“两步验证”页面生成新的恢复码。") % {"n": left})
                target = pending.get("next") or settings.LOGIN_REDIRECT_URL
                if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
                    target = settings.LOGIN_REDIRECT_URL
                return redirect(target)
            if throttle.record_failure(user.get_username(), ip, reason="totp"):
                request.session.pop(PENDING, None)
                form.add_error(None, locked_message())
            else:
                form.add_error("code", _("验证码不正确或已使用,请输入身份验证器当前显示的数字。"))
    return render(request, "accounts/login_verify.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        append(self.request.user, "accounts.password_changed", self.request.user)
        messages.success(self.request, _("密码已修改。"))
        return response


@login_required
@never_cache
def totp_setup(request):
    """Enrol (secret and otpauth URI shown as text; one correct code activates) or, once
    enrolled, see the status, regenerate recovery codes or disable."""
    user = request.user
    device = totp.device_for(user)
    if device is not None and device.confirmed:
        left = device.recovery_codes.filter(used_at__isnull=True).count()
        return render(request, "accounts/totp_status.html", {
            "device": device, "left": left, "form": CodeForm(), "required": totp.totp_required_for(user)})
    if request.method == "POST":
        device = device or totp.start_enrolment(user)
        form = EnrolForm(request.POST)
        if form.is_valid():
            codes = totp.confirm(device, form.cleaned_data["code"])
            if codes:
                return render(request, "accounts/totp_codes.html", {"codes": codes, "first": True})
            form.add_error("code", _("验证码不正确,请核对手机时间后输入当前显示的数字。"))
    else:
        device = totp.start_enrolment(user)
        form = EnrolForm()
    return render(request, "accounts/totp_setup.html", {
        "device": device, "uri": totp.provisioning_uri(device), "form": form,
        "required": totp.totp_required_for(user)})


def _current_code_or_error(request, form):
    if not form.is_valid():
        return False
    if totp.verify(request.user, form.cleaned_data["code"]) != "totp":
        form.add_error("code", _("验证码不正确或已使用,请输入身份验证器当前显示的数字。"))
        return False
    return True


@login_required
@require_POST
def totp_disable(request):
    form = CodeForm(request.POST)
    if totp.totp_required_for(request.user):
        messages.error(request, _("您的角色必须使用两步验证,不能关闭。"))
        return redirect("totp_setup")
    if _current_code_or_error(request, form):
        totp.disable(request.user, request.user)
        messages.success(request, _("两步验证已关闭。"))
        return redirect("totp_setup")
    device = totp.device_for(request.user)
    left = device.recovery_codes.filter(used_at__isnull=True).count() if device else 0
    return render(request, "accounts/totp_status.html", {"device": device, "left": left, "form": form,
                                                         "required": False}, status=400)


@login_required
@require_POST
def totp_recovery(request):
    form = CodeForm(request.POST)
    if _current_code_or_error(request, form):
        return render(request, "accounts/totp_codes.html", {"codes": totp.regenerate_recovery_codes(request.user)})
    device = totp.device_for(request.user)
    left = device.recovery_codes.filter(used_at__isnull=True).count() if device else 0
    return render(request, "accounts/totp_status.html", {"device": device, "left": left, "recovery_form": form,
                                                         "form": CodeForm(), "required": totp.totp_required_for(request.user)},
                  status=400)


def admin_login(request, extra_context=None):
    """Replaces the admin site's login view: anonymous users go to the one login page (lockout,
    two-step login) and come back; a logged-in user without admin rights goes to the workbench."""
    from django.contrib.auth.views import redirect_to_login

    if request.user.is_authenticated:
        messages.error(request, _("您的账号无权访问系统管理。"))
        return redirect("home")
    target = request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:index")
    return redirect_to_login(target, login_url=reverse("login"))
