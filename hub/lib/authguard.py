"""Middleware guarding staff sessions: idle logoff and the second factor.

Both run after Django's AuthenticationMiddleware and django-otp's
OTPMiddleware. Requests authenticated by an API token carry no session and
are not affected (integrations are not people at a keyboard).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from hub.lib import access, audit, sessions, twofactor

# Pages a signed-in person may reach whatever their session's state.
_OPEN_PREFIXES = ("/static/", "/healthz", "/widget", "/ws/", "/webhooks/")


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/kpi/export")


class IdleLogoffMiddleware:
    """Signs out a session idle for IDLE_LOGOFF_MINUTES, and closes its
    sockets; otherwise marks the request as activity."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(_OPEN_PREFIXES):
            session = request.session
            if sessions.is_idle_expired(session):
                key = session.session_key
                audit.record(user_id=user.pk, practice_id=access.practice_of(user), action="session.idle_logoff",
                             obj=("user", user.pk), via="console", ip=audit.client_ip(request.META),
                             detail={"idle_minutes": settings.IDLE_LOGOFF_MINUTES})
                request._hub_logoff_reason = sessions.REASON_IDLE
                logout(request)
                sessions.end_everywhere(key, sessions.REASON_IDLE)
                if _wants_json(request):
                    return JsonResponse({"code": "session_expired",
                                         "detail": f"You were signed out after {sessions.idle_span()} without "
                                                   "activity. Sign in again."}, status=401)
                query = urlencode({"next": request.get_full_path(), "expired": "1"})
                return redirect(f"{reverse('console:login')}?{query}")
            if not request.META.get(sessions.BACKGROUND_HEADER):
                sessions.touch(session)
        return self.get_response(request)


class SecondFactorMiddleware:
    """Holds a signed-in person at the two-factor step until they pass it
    (or, where their role requires it, until they enroll)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(_OPEN_PREFIXES):
            step = twofactor.pending_step(user, request.session)
            if step is not None:
                allowed = {reverse("console:logout"), reverse("console:two_factor_verify"),
                           reverse("console:two_factor")}
                if request.path not in allowed:
                    if _wants_json(request):
                        return JsonResponse({"code": "second_factor_required",
                                             "detail": "Finish signing in with your authenticator app first."},
                                            status=403)
                    target = "console:two_factor_verify" if step == twofactor.VERIFY else "console:two_factor"
                    return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
