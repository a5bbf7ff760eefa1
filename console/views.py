"""The agent console's pages. The page carries a snapshot of the queue and
the stream positions it was taken at; the socket replays from there."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.shortcuts import render

from hub.lib import access, replay
from hub.lib.event_types import conversation_out
from hub.models import Conversation


def _no_profile(request):
    return HttpResponseForbidden(
        "This account is not a staff member of any practice. Ask a practice admin to add you as an agent."
    )


@login_required
def home(request):
    viewer = access.viewer_for(request.user)
    if viewer is None:
        return _no_profile(request)
    # Heads first: anything published after this point is replayed by the
    # socket, so the snapshot can only be newer than the cursors, never older.
    heads = replay.heads(viewer.streams)
    queue = (
        access.conversations(viewer)
        .exclude(status=Conversation.Status.RESOLVED)
        .select_related("patient", "department", "assignee", "topic")
        .order_by("-priority", "waiting_since", "pk")[:500]
    )
    return render(request, "console/home.html", {
        "viewer": viewer,
        "boot": {
            "user": {"id": viewer.user_id, "name": viewer.display_name, "role": viewer.role},
            "cursors": heads,
            "conversations": [conversation_out(c).model_dump(mode="json") for c in queue],
        },
    })
