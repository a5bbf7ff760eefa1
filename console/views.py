"""The agent console's pages. The page carries a snapshot of the queue and
the stream positions it was taken at; the socket replays from there."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import guards
from hub.lib import access, audit, queue, replay
from hub.models import AgentProfile, Attachment


@login_required
def home(request):
    viewer = access.viewer_for(request.user)
    if viewer is None:
        return guards.no_profile()
    # Heads first: anything published after this point is replayed by the
    # socket, so the snapshot can only be newer than the cursors, never older.
    heads = replay.heads(viewer.streams)
    profile = AgentProfile.objects.select_related("practice").get(user_id=viewer.user_id)
    boot = {
        "user": {"id": viewer.user_id, "name": viewer.display_name, "role": viewer.role,
                 "department_ids": sorted(viewer.department_ids), "presence": profile.presence},
        "practice_name": profile.practice.name,
        "practice_timezone": profile.practice.timezone,
        "cursors": heads,
        "conversations": queue.open_conversations(viewer),
        "heartbeat": settings.HEARTBEAT_SECONDS,
        "idle_minutes": settings.CONSOLE_IDLE_MINUTES,
    }
    return render(request, "console/home.html", {"viewer": viewer, "boot": boot})


@login_required
@require_GET
def attachment(request, attachment_id: int):
    """A stored file, to staff who may see its conversation (audited). Never
    a public URL: the provider's copy needs the account's credentials and
    ours needs a session."""
    viewer = access.viewer_for(request.user)
    if viewer is None:
        return guards.no_profile()
    found = (Attachment.objects.in_practice(viewer.practice_id).select_related("event__conversation")
             .filter(pk=attachment_id, status=Attachment.Status.STORED).first())
    if found is None or not access.can_see_conversation(viewer, found.event.conversation):
        raise Http404("No such attachment.")
    audit.record(user_id=viewer.user_id, practice_id=viewer.practice_id, action="attachment.viewed", obj=found,
                 via="console", ip=audit.client_ip(request.META), detail={"conversation": found.event.conversation_id})
    # Only the types the hub stores are served as themselves; pictures and
    # audio may open in the browser, anything else (PDFs) is downloaded.
    content_type = found.content_type if found.content_type in INLINE_TYPES | DOWNLOAD_TYPES else "application/octet-stream"
    response = FileResponse(found.file.open("rb"), content_type=content_type,
                            as_attachment=request.GET.get("download") == "1" or content_type not in INLINE_TYPES,
                            filename=found.filename or f"attachment-{found.pk}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Opened on its own, the file is a sandboxed document that can load
    # nothing (the picture itself, and the browser's own image styling, aside).
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "audio/wav", "audio/mpeg"})
DOWNLOAD_TYPES = frozenset({"application/pdf", "image/heic"})
ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
