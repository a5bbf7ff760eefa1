"""Who may do what in role-play practice. Roles are asked of
`hub.lib.access.Viewer` only: every staff member who is a person may
practise; supervisors (and practice admins) also assign scenarios and
review their practice's runs."""

from __future__ import annotations

from hub.actions.errors import ActionError
from hub.lib import access


class NotAllowed(ActionError):
    status = 403

    def __init__(self, message: str):
        super().__init__(message, code="forbidden")


def require_person(viewer: access.Viewer) -> None:
    if not viewer.is_person:
        raise NotAllowed("Role-play practice is for staff members, not integrations.")


def require_supervisor(viewer: access.Viewer) -> None:
    if not viewer.may_supervise:
        raise NotAllowed("Only supervisors can do this.")
