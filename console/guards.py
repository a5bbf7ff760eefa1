"""Who may open a console page: the refusals the pages share."""

from __future__ import annotations

from django.http import HttpResponseForbidden

from hub.lib import access

NO_PROFILE = "This account is not a staff member of any practice. Ask a practice admin to add you as an agent."


def no_profile() -> HttpResponseForbidden:
    return HttpResponseForbidden(NO_PROFILE, content_type="text/plain; charset=utf-8")


def practice_admin(request, forbidden: str):
    """(viewer, None) for a practice admin; (None, a 403 saying why) for
    anyone else."""
    viewer = access.viewer_for(request.user)
    if viewer is None:
        return None, no_profile()
    if not viewer.is_practice_admin:
        return None, HttpResponseForbidden(forbidden, content_type="text/plain; charset=utf-8")
    return viewer, None
