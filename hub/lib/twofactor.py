"""Two-factor sign-in with TOTP (django-otp): who must use it, and whether
a session has passed it.

Any staff member may turn it on for themselves. Roles named in
OTP_REQUIRED_ROLES (agent, supervisor, admin, superuser) must: until they
have enrolled an authenticator app they can reach nothing but the
enrollment page. A person with a confirmed device proves it once per
session, right after their password.
"""

from __future__ import annotations

from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device
from django_otp.models import Device

VERIFY = "verify"  # has a device; this session has not used it yet
ENROLL = "enroll"  # required for their role; no device yet


def roles_of(user) -> set[str]:
    roles = set()
    if user.is_superuser:
        roles.add("superuser")
    profile = getattr(user, "agent", None)  # no profile: RelatedObjectDoesNotExist, an AttributeError
    if profile is not None:
        roles.add(profile.role)
    return roles


def required_for(user) -> bool:
    return bool(roles_of(user) & set(settings.OTP_REQUIRED_ROLES))


def session_verified(user, session) -> bool:
    """The session passed the second factor with one of this user's devices."""
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == user.pk and device.confirmed


def pending_step(user, session) -> str | None:
    """What the signed-in user still has to do before using the hub."""
    if not user.is_authenticated:
        return None
    if user_has_device(user, confirmed=True):
        return None if session_verified(user, session) else VERIFY
    return ENROLL if required_for(user) else None
