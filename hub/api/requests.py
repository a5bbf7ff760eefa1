"""What every /api/v1/ endpoint needs from its request: the staff member it
acts as, and where it came from (for the audit trail)."""

from django.http import HttpRequest
from ninja.errors import HttpError

from hub.lib import access, audit


def viewer(request: HttpRequest) -> access.Viewer:
    found = access.viewer_for(request.auth)
    if found is None:
        raise HttpError(403, "This account is not a staff member of any practice.")
    return found


def via(request: HttpRequest) -> str:
    return getattr(request, "api_via", "console")


def who(request: HttpRequest) -> dict:
    """The `via` and `ip` keyword arguments of an action."""
    return {"via": via(request), "ip": audit.client_ip(request.META)}
