"""Files on the timeline. The provider's copy is fetched by a task after
commit, checked (size, a declared type the hub accepts, and bytes that show
that type), and stored; the event shows its state."""

from __future__ import annotations

import logging
import unicodedata
import uuid

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction

from channels_app.base import AdapterError
from channels_app.registry import get_adapter
from hub.lib.event_types import event_out
from hub.lib.events import conversation_streams, publish
from hub.models import Attachment, Event

log = logging.getLogger(__name__)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/heic": "heic", "application/pdf": "pdf", "audio/wav": "wav", "audio/mpeg": "mp3"}
# File name endings that already say what the file is.
NAME_ENDINGS = {"image/jpeg": {"jpg", "jpeg", "jpe", "jfif"}, "image/heic": {"heic", "heif"},
                "audio/mpeg": {"mp3"}, **{t: {e} for t, e in EXTENSIONS.items()
                                          if t not in ("image/jpeg", "image/heic", "audio/mpeg")}}
# Other names senders use for the same types.
TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
                "image/heif": "image/heic", "audio/x-wav": "audio/wav", "audio/wave": "audio/wav",
                "audio/vnd.wave": "audio/wav", "audio/mp3": "audio/mpeg"}
# Types that say nothing about the file.
UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
MAX_FILENAME = 120


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


def declared_type(declared: str | None) -> str:
    """A sender's Content-Type as the hub names it: no parameters, lower
    case, aliases resolved ("image/jpg; x=y" -> "image/jpeg")."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    return TYPE_ALIASES.get(base, base)


def _accepted(allowed: list[str]) -> str:
    if allowed == settings.ATTACHMENT_TYPES:
        return "only pictures (JPEG, PNG, GIF, WebP, HEIC) and PDF files are accepted"
    return "not a file of an accepted type"


def verify(head: bytes, size: int, declared: str, allowed: list[str] | None = None,
           max_bytes: int | None = None) -> str:
    """The content type to store a file as, from its first bytes, its size
    and the type its sender declared, or Rejected with the reason. The
    declared type must be an accepted one and the bytes must show it: a
    page, a script or a program renamed as a picture is refused."""
    allowed = allowed if allowed is not None else settings.ATTACHMENT_TYPES
    max_bytes = max_bytes or settings.ATTACHMENT_MAX_BYTES
    if size > max_bytes:
        raise Rejected(f"larger than {max_bytes // (1024 * 1024)} MB")
    if not size:
        raise Rejected("empty file")
    claimed = declared_type(declared)
    if claimed not in allowed:
        raise Rejected(_accepted(allowed))
    actual = sniff(head[:32])
    if actual is None or actual not in allowed:
        raise Rejected(_accepted(allowed))
    if actual != claimed:
        raise Rejected(f"the file is not the {claimed} it claims to be")
    return actual


def check(content: bytes, declared: str = "", allowed: list[str] | None = None,
          max_bytes: int | None = None) -> str:
    """`verify` for a file held in memory."""
    return verify(content[:32], len(content), declared, allowed, max_bytes)


def clean_filename(name: str, content_type: str) -> str:
    """A file name safe to show and to offer as a download: no folders, no
    control or direction-changing characters, at most MAX_FILENAME
    characters, ending in the extension of what the file really is."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    ext = EXTENSIONS[content_type]
    if not name:
        return f"attachment.{ext}"
    if name.rpartition(".")[2].lower() not in NAME_ENDINGS[content_type] or "." not in name:
        name = f"{name}.{ext}"
    if len(name) > MAX_FILENAME:
        stem, _, ending = name.rpartition(".")
        name = f"{stem[:MAX_FILENAME - len(ending) - 1].rstrip(' .')}.{ending}"
    return name


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


def store(event: Event, content: bytes | File, *, filename: str = "", declared: str = "") -> Attachment:
    """Inside a transaction: a file received directly (a web chat upload),
    checked and stored now, read in chunks when it is a file. The sender
    must declare an accepted type that the bytes confirm. Raises Rejected."""
    upload = ContentFile(bytes(content)) if isinstance(content, (bytes, bytearray)) else content
    upload.seek(0)
    head = upload.read(32)
    upload.seek(0)
    content_type = verify(head, upload.size, declared)
    position = event.attachments.count()
    attachment = Attachment(practice_id=event.practice_id, event=event, position=position, content_type=content_type,
                            size=upload.size, filename=clean_filename(filename, content_type),
                            status=Attachment.Status.STORED)
    attachment.file.save(f"{uuid.uuid4().hex}.{EXTENSIONS[content_type]}", upload, save=False)
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
        # The provider's answer names the type; failing that, the webhook did.
        if declared_type(declared) in UNDECLARED:
            declared = attachment.content_type
        content_type = check(content, declared, allowed, max_bytes)
    except Rejected as exc:
        status, reason = Attachment.Status.REJECTED, str(exc)
    except AdapterError as exc:
        if not exc.permanent:
            raise
        status, reason = Attachment.Status.FAILED, exc.message
    with transaction.atomic():
        attachment = Attachment.objects.select_for_update(no_key=True).get(pk=attachment_id)
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
    event = (Event.objects.select_for_update(no_key=True, of=("self",)).select_related("conversation", "author")
             .get(pk=event_id))
    event.data = {**event.data, "attachments": [summary(a) for a in event.attachments.order_by("position")]}
    event.save(update_fields=["data", "updated_at"])
    publish((conversation_streams(event.conversation), "event.updated", event_out(event)),
            department_id=event.conversation.department_id)
