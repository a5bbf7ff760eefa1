"""/console/training/: the role-play practice page. The page is a shell;
its ES modules (console/static/console/training*.js) play runs through
/api/v1/training/."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import guards
from hub.lib import access
from hub.models import AgentProfile
from hub.training.scenarios import DEPARTMENTS, ESCALATIONS


def _team(viewer: access.Viewer) -> list[dict]:
    """Who a supervisor can assign scenarios to: the practice's people."""
    profiles = (AgentProfile.objects.in_practice(viewer.practice_id).exclude(role=AgentProfile.Role.INTEGRATION)
                .select_related("user").order_by("user__first_name", "user__last_name", "user__username"))
    return [{"id": p.user_id, "name": p.display_name, "role": p.get_role_display()} for p in profiles]


@login_required
@require_GET
def index(request):
    viewer = access.viewer_for(request.user)
    if viewer is None or not viewer.is_person:
        return guards.no_profile()
    boot = {
        "user": {"id": viewer.user_id, "name": viewer.display_name, "role": viewer.role},
        "may_supervise": viewer.may_supervise,
        "departments": [{"slug": slug, "label": label} for slug, label in DEPARTMENTS.items()],
        "escalations": [{"to": to, "label": label} for to, label in ESCALATIONS.items()],
        "team": _team(viewer) if viewer.may_supervise else [],
    }
    return render(request, "training/index.html", {"viewer": viewer, "boot": boot})
