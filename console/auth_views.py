"""Signing in and out of the console: password (throttled, locked out after
repeated failures by django-axes), then the second factor where the person
has one, and their own two-factor settings."""

from __future__ import annotations

import base64
import secrets

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import DEVICE_ID_SESSION_KEY, login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.lib import access, audit, ratelimit, sessions, twofactor

LOGIN_WINDOW_SECONDS = 15 * 60


def _safe_next(request, default: str = "/console/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        allowed, retry_after = ratelimit.hit(f"login:{audit.client_ip(request.META)}",
                                             settings.LOGIN_ATTEMPTS_PER_IP, LOGIN_WINDOW_SECONDS)
        if not allowed:
            response = render(request, "console/locked_out.html",
                              {"reason": "address", "minutes": max(1, retry_after // 60)}, status=429)
            response["Retry-After"] = str(retry_after)
            return response
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.GET.get("expired") == "1"
        context["idle_span"] = sessions.idle_span()
        return context


def lockout(request, credentials=None, *args, **kwargs):
    """django-axes' answer when an account is locked (AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "console/locked_out.html", {"reason": "account", "minutes": minutes}, status=429)


class TokenForm(forms.Form):
    otp_token = forms.RegexField(
        regex=r"^\s*\d{6}\s*$", label="6-digit code",
        error_messages={"invalid": "Enter the 6 digits your authenticator app shows."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8,
                                      "autofocus": True}),
    )

    def token(self) -> str:
        return self.cleaned_data["otp_token"].strip()


@never_cache
@sensitive_post_parameters("otp_token")
@login_required
def verify(request):
    """The second step of signing in: a code from the person's app."""
    if twofactor.pending_step(request.user, request.session) != twofactor.VERIFY:
        return redirect(_safe_next(request))
    form = TokenForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
        ok = device is not None and device.verify_token(form.token())
        audit.record(user_id=request.user.pk, practice_id=access.practice_of(request.user),
                     action="session.second_factor" if ok else "session.second_factor_failed",
                     obj=("user", request.user.pk), via="console", ip=audit.client_ip(request.META))
        if ok:
            request.session.cycle_key()
            otp_login(request, device)
            return redirect(_safe_next(request))
        error = "That code did not match. Codes change every 30 seconds; try the one shown now."
        if device is not None:
            allowed, _ = device.verify_is_allowed()
            if not allowed:
                error = "Too many wrong codes. Wait a minute before trying again."
    status = 400 if request.method == "POST" else 200
    return render(request, "console/two_factor_verify.html",
                  {"form": form, "error": error, "next": _safe_next(request)}, status=status)


def _qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=5, dark="#111827", light="#ffffff")


@never_cache
@sensitive_post_parameters("otp_token")
@login_required
def two_factor(request):
    """Turn two-factor sign-in on (scan, then confirm a code) or off."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    required = twofactor.required_for(user)
    form = TokenForm(request.POST or None)
    error, status = "", 200

    if confirmed is not None:
        if request.method == "POST" and request.POST.get("action") == "disable":
            if required:
                error, status = "Your role requires two-factor sign-in; it cannot be turned off.", 400
            elif form.is_valid() and confirmed.verify_token(form.token()):
                TOTPDevice.objects.filter(user=user).delete()
                request.session.pop(DEVICE_ID_SESSION_KEY, None)
                audit.record(user_id=user.pk, practice_id=access.practice_of(user), action="two_factor.disabled",
                             obj=("user", user.pk), via="console", ip=audit.client_ip(request.META))
                return redirect("console:two_factor")
            else:
                error, status = "Enter a current code from your app to turn two-factor sign-in off.", 400
        return render(request, "console/two_factor.html",
                      {"enabled": True, "required": required, "form": form, "error": error}, status=status)

    # Enrolling: one unconfirmed device per person, kept until confirmed.
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if pending is None or request.GET.get("new") == "1":
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        pending = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False,
                                            key=secrets.token_hex(20))
    if request.method == "POST":
        if form.is_valid() and pending.verify_token(form.token()):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            request.session.cycle_key()
            otp_login(request, pending)
            audit.record(user_id=user.pk, practice_id=access.practice_of(user), action="two_factor.enabled",
                         obj=("user", user.pk), via="console", ip=audit.client_ip(request.META))
            return redirect(_safe_next(request, default="/console/"))
        error, status = "That code did not match. Check the app's clock and try the code shown now.", 400
    secret = base64.b32encode(pending.bin_key).decode().rstrip("=")
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render(request, "console/two_factor.html", {
        "enabled": False, "required": required, "form": form, "error": error, "secret": grouped,
        "qr": _qr_data_uri(pending.config_url), "next": _safe_next(request),
    }, status=status)
