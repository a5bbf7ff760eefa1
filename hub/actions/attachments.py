"""Files on the timeline. The provider's copy is fetched by a task after
commit, checked (size, and a type read from the bytes themselves, not from
what the sender claims), and stored; the event shows its state."""

from __future__ import annotations

import logging
import os
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from channels_app.base import AdapterError
from channels_app.registry import get_adapter
from hub.lib.event_types import event_out
from hub.lib.events import conversation_streams, publish
from hub.models import Attachment, Event

log = logging.getLogger(__name__)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/heic": "heic", "application/pdf": "pdf", "audio/wav": "wav", "audio/mpeg": "mp3"}


class Rejected(Exception):
    pass


def sniff(head: bytes) -> str | None:
    """The content type the bytes themselves show, for the allowed kinds."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "image/heic"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return None


def check(content: bytes, declared: str = "", allowed: list[str] | None = None,
          max_bytes: int | None = None) -> str:
    """The content type to store `content` as, or Rejected with the reason."""
    allowed = allowed if allowed is not None else settings.ATTACHMENT_TYPES
    max_bytes = max_bytes or settings.ATTACHMENT_MAX_BYTES
    if len(content) > max_bytes:
        raise Rejected(f"larger than {max_bytes // (1024 * 1024)} MB")
    if not content:
        raise Rejected("empty file")
    actual = sniff(content[:32])
    if actual is None or actual not in allowed:
        if allowed == settings.ATTACHMENT_TYPES:
            raise Rejected("only pictures (JPEG, PNG, GIF, WebP, HEIC) and PDF files are accepted")
        raise Rejected("not a file of an accepted type")
    return actual


def summary(attachment: Attachment) -> dict:
    return {"id": attachment.pk, "content_type": attachment.content_type, "status": attachment.status,
            "size": attachment.size, "filename": attachment.filename, "reason": attachment.reason}


def attach_pending(event: Event, inbound: tuple) -> list[Attachment]:
    """Inside the ingest transaction: one pending attachment per file the
    provider holds, fetched after commit."""
    from hub.tasks import fetch_attachment

    rows = [Attachment.objects.create(practice_id=event.practice_id, event=event, position=i,
                                      content_type=(item.content_type or "")[:100], source_url=item.url)
            for i, item in enumerate(inbound)]
    event.data = {**event.data, "attachments": [summary(a) for a in rows]}
    Event.objects.filter(pk=event.pk).update(data=event.data)
    for row in rows:
        transaction.on_commit(lambda pk=row.pk: fetch_attachment.delay(pk))
    return rows


def store(event: Event, content: bytes, *, filename: str = "", declared: str = "") -> Attachment:
    """Inside a transaction: a file received directly (a web chat upload),
    checked and stored now. Raises Rejected."""
    content_type = check(content, declared)
    position = event.attachments.count()
    attachment = Attachment(practice_id=event.practice_id, event=event, position=position, content_type=content_type,
                            size=len(content), filename=os.path.basename(filename)[:200],
                            status=Attachment.Status.STORED)
    attachment.file.save(f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}", ContentFile(content), save=False)
    attachment.save()
    return attachment


def fetch(attachment_id: int) -> None:
    """Fetch one pending attachment from its provider (the task's body)."""
    attachment = Attachment.objects.select_related("event").filter(pk=attachment_id).first()
    if attachment is None or attachment.status != Attachment.Status.PENDING:
        return
    adapter = get_adapter(attachment.event.channel)
    status, reason, content, content_type = Attachment.Status.STORED, "", b"", ""
    allowed = adapter.attachment_types or settings.ATTACHMENT_TYPES
    max_bytes = adapter.attachment_max_bytes or settings.ATTACHMENT_MAX_BYTES
    try:
        content, declared = adapter.download(attachment.source_url, max_bytes)
        content_type = check(content, declared or attachment.content_type, allowed, max_bytes)
    except Rejected as exc:
        status, reason = Attachment.Status.REJECTED, str(exc)
    except AdapterError as exc:
        if not exc.permanent:
            raise
        status, reason = Attachment.Status.FAILED, exc.message
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update().get(pk=attachment_id)
        if attachment.status != Attachment.Status.PENDING:
            return
        attachment.status, attachment.reason = status, reason[:200]
        if status == Attachment.Status.STORED:
            attachment.content_type, attachment.size = content_type, len(content)
            attachment.file.save(f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}", ContentFile(content), save=False)
        else:
            log.info("attachment %s not stored: %s", attachment.pk, reason)
        attachment.save()
        refresh_event(attachment.event_id)


def refresh_event(event_id: int) -> None:
    event = (Event.objects.select_for_update(of=("self",)).select_related("conversation", "author")
             .get(pk=event_id))
    event.data = {**event.data, "attachments": [summary(a) for a in event.attachments.order_by("position")]}
    event.save(update_fields=["data", "updated_at"])
    publish((conversation_streams(event.conversation), "event.updated", event_out(event)),
            department_id=event.conversation.department_id)
