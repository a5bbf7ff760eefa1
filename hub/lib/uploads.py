"""Upload size limits that hold while the request arrives, not after it has
been read: an ASGI wrapper refuses a declared body that is too large before
Django reads a byte of it, and an upload handler stops the multipart parser
at the limit (docs/hardening.md)."""

from __future__ import annotations

import json
import re

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# Multipart framing around the file: boundaries, part headers, the small
# fields sent with it (id, caption).
MULTIPART_OVERHEAD = 64 * 1024


def body_limit(path: str) -> int | None:
    """The most bytes a request to `path` may carry, or None for Django's
    own limits. Only the widget's upload endpoint takes files."""
    from django.conf import settings

    if _UPLOAD_PATH.match(path):
        return settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD
    return None


_UPLOAD_PATH = re.compile(r"^/webchat/[^/]+/uploads$")


class RequestBodyLimit:
    """ASGI middleware: 413 for a request whose Content-Length is over its
    path's limit, and 411 for one that does not say (a browser always
    does), answered before the body is read."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = body_limit(scope["path"])
        if limit is None:
            return await self.app(scope, receive, send)
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
                break
        if length is None:
            return await self._refuse(send, 411, "length_required", "Send the file with a Content-Length.")
        if length > limit:
            return await self._refuse(send, 413, "too_large", "That file is too large.")
        return await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(send, status: int, code: str, detail: str) -> None:
        body = json.dumps({"code": code, "detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class CappedUploadHandler(FileUploadHandler):
    """First in request.upload_handlers: counts the bytes of every file in
    the request and stops the parser as soon as they pass `max_bytes`, so
    nothing past the limit reaches memory or a temporary file. The view
    reads `too_large` to answer 413."""

    def __init__(self, max_bytes: int, request=None):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.max_bytes + MULTIPART_OVERHEAD:
            self.too_large = True
            return QueryDict(), MultiValueDict()  # parse nothing
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None
