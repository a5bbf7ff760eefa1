"""HTTP for the widget: its script, its configuration, file uploads and a
demo host page. The widget runs on the practice's site, so these answer
cross-origin requests, but only from that practice's allowed origins."""

from __future__ import annotations

import gzip
import logging
import uuid
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from channels_app.webchat import service, tokens
from hub.lib import ratelimit, uploads
from hub.models import Practice

log = logging.getLogger(__name__)
UPLOADS_PER_VISITOR = (10, 300)


def _script_path() -> Path:
    return Path(finders.find("webchat/widget.js") or Path(settings.STATIC_ROOT) / "webchat" / "widget.js")


@lru_cache(maxsize=4)
def _script(compressed: bool, modified: float) -> bytes:
    source = _script_path().read_bytes()
    return gzip.compress(source, 9) if compressed else source


@require_GET
def widget_js(request):
    """/widget.js: one file, no framework, nothing for the practice to build."""
    compressed = "gzip" in request.headers.get("Accept-Encoding", "")
    # Keyed by the file's time, so a deploy serves the new script at once.
    response = HttpResponse(_script(compressed, _script_path().stat().st_mtime),
                            content_type="text/javascript; charset=utf-8")
    if compressed:
        response["Content-Encoding"] = "gzip"
    response["Cache-Control"] = "public, max-age=300"
    response["Vary"] = "Accept-Encoding"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _cors(response, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _practice_and_origin(request, key):
    practice = service.practice_for_key(key)
    if practice is None:
        raise Http404("unknown practice")
    origin = request.headers.get("Origin") or settings.PUBLIC_BASE_URL
    return practice, origin, service.origin_allowed(practice, origin, settings.PUBLIC_BASE_URL)


@require_GET
def config(request, key):
    """What the widget needs to start. An origin the practice has not listed
    gets 403 and no CORS grant: the script refuses to start there."""
    practice, origin, allowed = _practice_and_origin(request, key)
    if not allowed:
        return JsonResponse({"allowed": False, "detail": "This website may not embed this practice's chat."},
                            status=403)
    body = {
        "allowed": True,
        "practice_name": practice.name,
        "topics": service.topics(practice.pk),
        **service.availability(practice.pk),
        "max_message": service.MAX_MESSAGE,
        "max_file_bytes": settings.ATTACHMENT_MAX_BYTES,
        "file_types": [t for t in settings.ATTACHMENT_TYPES if t.startswith("image/") or t == "application/pdf"],
        "socket": f"/ws/widget/{practice.widget_key}/",
        "uploads": f"/webchat/{practice.widget_key}/uploads",
    }
    return _cors(JsonResponse(body), origin)


@csrf_exempt
def upload(request, key):
    """A file from the widget (bearer visitor token; no cookies, so no CSRF)."""
    practice, origin, allowed = _practice_and_origin(request, key)
    if not allowed:
        return JsonResponse({"code": "origin", "detail": "origin not allowed"}, status=403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return _cors(JsonResponse({"code": "method", "detail": "POST a file"}, status=405), origin)
    raw = request.headers.get("Authorization", "")
    visitor_id = tokens.verify(raw[7:], practice.pk) if raw.startswith("Bearer ") else None
    visitor = service.visitor_for(practice.pk, visitor_id) if visitor_id else None
    if visitor is None:
        return _cors(JsonResponse({"code": "token", "detail": "invalid visitor token"}, status=401), origin)
    too_large = _cors(JsonResponse({"code": "too_large", "detail": "That file is too large."}, status=413), origin)
    try:
        declared_length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared_length = 0
    if declared_length > settings.ATTACHMENT_MAX_BYTES + uploads.MULTIPART_OVERHEAD:
        return too_large
    allowed_now, retry = ratelimit.hit(f"wup:{visitor.visitor_id}", *UPLOADS_PER_VISITOR)
    if not allowed_now:
        return _cors(JsonResponse({"code": "rate_limited", "detail": f"Please wait {retry} seconds.",
                                   "retry_after": retry}, status=429), origin)
    # The parser stops at the limit: nothing past it is held anywhere.
    capped = uploads.CappedUploadHandler(settings.ATTACHMENT_MAX_BYTES, request)
    request.upload_handlers.insert(0, capped)
    file = request.FILES.get("file")
    if capped.too_large or (file is not None and file.size > settings.ATTACHMENT_MAX_BYTES):
        return too_large
    if file is None:
        return _cors(JsonResponse({"code": "no_file", "detail": "Choose a file."}, status=400), origin)
    try:
        result = service.upload(visitor, client_id=request.POST.get("id") or uuid.uuid4().hex,
                                content=file, filename=file.name or "", declared=file.content_type or "",
                                caption=request.POST.get("caption", ""))
    except service.Refused as refused:
        return _cors(JsonResponse({"code": refused.code, "detail": refused.detail}, status=400), origin)
    # Ids only: no file name, no caption, no address (docs/hardening.md).
    log.info("widget upload stored: conversation %s event %s", result.conversation.pk, result.event.pk)
    return _cors(JsonResponse({"event_id": result.event.pk, "conversation_id": result.conversation.pk,
                               "seq": result.event.seq}, status=201), origin)


@require_GET
def demo(request):
    """A pretend practice website with the widget on it (make run)."""
    practice = Practice.objects.order_by("pk").first()
    if practice is None:
        raise Http404("no practice yet")
    return render(request, "webchat/demo.html", {
        "practice": practice, "hostile": request.GET.get("hostile") == "1",
        "snippet": f'<script src="{settings.PUBLIC_BASE_URL}/widget.js" data-practice="{practice.widget_key}" async></script>',
    })
