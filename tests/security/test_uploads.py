"""Files patients send: checked as they arrive at the widget's upload
endpoint (size while streaming, a declared type the hub accepts and bytes
that show it, a clean name) and served back to staff only as what they are."""

from __future__ import annotations

import asyncio
import io
import logging
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client

from channels_app.webchat import service, tokens
from hub.models import Attachment, Event
from tests.phi_scan import production_handler

ORIGIN = "http://localhost:8000"
PNG = (Path(__file__).resolve().parents[2] / "console/static/console/demo-card.png").read_bytes()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
GIF87 = b"GIF87a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 32 + b";"
GIF89 = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 32 + b";"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
HEIX = b"\x00\x00\x00\x18ftypheix\x00\x00\x00\x00mif1heix" + b"\x00" * 40
MIF1 = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def visitor_token(world):
    registered, _ = service.start(world.practice.pk, name="Pat")
    return tokens.issue(world.practice.pk, registered.visitor_id)


def multipart(filename: str, content: bytes, content_type: str, **fields) -> tuple[bytes, str]:
    """A multipart body written by hand, so the file name reaches the
    server exactly as a client sent it."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in {"id": uuid.uuid4().hex, **fields}.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
              f"Content-Type: {content_type}\r\n\r\n".encode("utf-8"))
    out.write(content)
    out.write(f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(client, world, token, content, filename="card.png", content_type="image/png", **fields):
    body, ctype = multipart(filename, content, content_type, **fields)
    return client.post(f"/webchat/{world.practice.widget_key}/uploads", data=body, content_type=ctype,
                       HTTP_ORIGIN=ORIGIN, HTTP_AUTHORIZATION=f"Bearer {token}")


def stored_attachment(response) -> Attachment:
    assert response.status_code == 201, response.content
    return Event.objects.get(pk=response.json()["event_id"]).attachments.get()


def download(world, attachment, **params):
    staff = Client()
    staff.force_login(world.sam)
    return staff.get(f"/console/attachments/{attachment.pk}", params)


def assert_nothing_stored(media):
    assert not Attachment.objects.exists()
    assert not Event.objects.filter(channel="web", kind="message").exists()
    assert not [p for p in Path(media).rglob("*") if p.is_file()]


@pytest.mark.parametrize("content,filename,declared", [
    (JPEG, "photo.jpg", "image/jpeg"),
    (JPEG, "photo.jpeg", "image/jpg"),  # a common alias
    (PNG, "card.png", "image/png"),
    (GIF87, "a.gif", "image/gif"),
    (GIF89, "b.gif", "image/gif"),
    (WEBP, "c.webp", "image/webp"),
    (HEIC, "d.heic", "image/heic"),
    (HEIX, "e.heic", "image/heic"),
    (MIF1, "f.heif", "image/heif"),
    (PDF, "referral.pdf", "application/pdf"),
])
def test_pictures_and_pdfs_whose_bytes_show_their_type_are_stored(world, client, visitor_token, media, content,
                                                                  filename, declared):
    attachment = stored_attachment(upload(client, world, visitor_token, content, filename, declared))
    assert attachment.status == "stored" and attachment.size == len(content)
    assert attachment.file.read() == content
    assert attachment.content_type == {"image/jpg": "image/jpeg", "image/heif": "image/heic"}.get(declared, declared)


@pytest.mark.parametrize("content,filename,declared,reason", [
    (HTML, "card.png", "image/png", "only pictures"),  # a page renamed as a picture
    (HTML, "page.html", "text/html", "only pictures"),
    (SVG, "logo.svg", "image/svg+xml", "only pictures"),  # never accepted: it can carry script
    (SVG, "logo.png", "image/png", "only pictures"),
    (EXE, "setup.exe", "application/octet-stream", "only pictures"),
    (EXE, "scan.jpg", "image/jpeg", "only pictures"),
    (PNG, "card.png", "", "only pictures"),  # no declared type
    (PNG, "card.jpg", "image/jpeg", "not the image/jpeg it claims to be"),  # a real picture, but not what it says
    (PDF, "scan.png", "image/png", "not the image/png it claims to be"),
    (b"", "empty.png", "image/png", "empty file"),
])
def test_files_that_are_not_what_they_claim_are_refused_and_nothing_is_stored(world, client, visitor_token, media,
                                                                               content, filename, declared, reason):
    response = upload(client, world, visitor_token, content, filename, declared)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_file" and reason in response.json()["detail"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the widget can read why
    assert_nothing_stored(media)


def test_a_type_the_practice_does_not_accept_is_refused(world, client, visitor_token, media, settings):
    settings.ATTACHMENT_TYPES = ["image/jpeg", "image/png", "application/pdf"]
    assert upload(client, world, visitor_token, GIF89, "b.gif", "image/gif").status_code == 400
    assert_nothing_stored(media)


def test_a_declared_body_over_the_limit_is_refused_before_it_is_parsed(world, client, visitor_token, media, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = upload(client, world, visitor_token, PNG[:8] + b"\0" * 200_000)
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert_nothing_stored(media)


class Recording(FileUploadHandler):
    """Behind the hub's own handler: sees what the parser passes on."""
    received: list[int] = []

    def receive_data_chunk(self, raw_data, start):
        Recording.received.append(start + len(raw_data))
        return raw_data

    def file_complete(self, file_size):
        return None


def test_a_file_over_the_limit_is_stopped_while_it_is_read(world, client, visitor_token, media, settings):
    """The body is within the multipart allowance, the file is not: the
    parser stops at the limit, and nothing past it reaches the handlers
    that keep files in memory or on disk."""
    settings.ATTACHMENT_MAX_BYTES = 1000
    settings.FILE_UPLOAD_HANDLERS = ["tests.security.test_uploads.Recording", *settings.FILE_UPLOAD_HANDLERS]
    Recording.received.clear()
    response = upload(client, world, visitor_token, PNG[:8] + b"\0" * 50_000)
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert max(Recording.received, default=0) <= 1000
    assert_nothing_stored(media)


def test_an_oversized_upload_is_answered_before_its_body_is_read(settings):
    """At the ASGI edge: a declared length over the limit gets 413 and the
    application never receives a byte of the body."""
    from hub.asgi import application

    settings.ATTACHMENT_MAX_BYTES = 1000
    sent = []

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    def scope(length: bytes | None):
        headers = [(b"host", b"localhost"), (b"content-type", b"multipart/form-data; boundary=x")]
        if length is not None:
            headers.append((b"content-length", length))
        return {"type": "http", "method": "POST", "path": "/webchat/pk_test/uploads", "raw_path": b"/webchat/pk_test/uploads",
                "query_string": b"", "headers": headers, "scheme": "http", "server": ("localhost", 80),
                "client": ("127.0.0.1", 5000), "asgi": {"version": "3.0"}, "http_version": "1.1", "root_path": ""}

    asyncio.run(application(scope(b"50000000"), receive, send))
    assert sent[0]["status"] == 413 and b"too_large" in sent[1]["body"]
    sent.clear()
    asyncio.run(application(scope(None), receive, send))  # a body that does not say how long it is
    assert sent[0]["status"] == 411


@pytest.mark.parametrize("sent,kept", [
    ("../../../etc/passwd.png", "passwd.png"),
    ("..\\..\\windows\\system32\\card.png", "card.png"),
    ("C:\\fakepath\\my card.png", "my card.png"),
    ("report.pdf.exe", "report.pdf.exe.png"),  # the name ends as what the file really is
    ("...hidden.png", "hidden.png"),
    ("tab\tand\x07bell.png", "tabandbell.png"),
    ("...", "attachment.png"),
])
def test_file_names_are_cleaned(world, client, visitor_token, media, sent, kept):
    attachment = stored_attachment(upload(client, world, visitor_token, PNG, sent, "image/png"))
    assert attachment.filename == kept
    assert Path(attachment.file.path).resolve().is_relative_to(Path(media).resolve())


def test_direction_overrides_and_long_names_are_cleaned(world, client, visitor_token, media):
    attachment = stored_attachment(upload(client, world, visitor_token, PNG, "invoice\u202egnp.exe", "image/png"))
    assert "\u202e" not in attachment.filename and attachment.filename.endswith(".png")
    long = stored_attachment(upload(client, world, visitor_token, PNG, "x" * 500 + ".png", "image/png"))
    assert len(long.filename) <= 120 and long.filename.endswith(".png")


def test_a_picture_is_served_inline_as_itself_and_sandboxed(world, client, visitor_token, media):
    attachment = stored_attachment(upload(client, world, visitor_token, PNG, "rash.png", "image/png"))
    response = download(world, attachment)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    csp = response["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'") and "sandbox" in csp and "script-src" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert download(world, attachment, download="1")["Content-Disposition"].startswith("attachment")


def test_a_pdf_is_always_downloaded(world, client, visitor_token, media):
    attachment = stored_attachment(upload(client, world, visitor_token, PDF, "referral.pdf", "application/pdf"))
    response = download(world, attachment)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="referral.pdf"'
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_stored_type_the_hub_does_not_serve_is_never_sent_as_a_page(world, client, visitor_token, media):
    attachment = stored_attachment(upload(client, world, visitor_token, PNG, "card.png", "image/png"))
    Attachment.objects.filter(pk=attachment.pk).update(content_type="text/html")  # a row from elsewhere
    response = download(world, attachment)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_the_upload_log_line_names_ids_only(world, client, visitor_token, media):
    stream = io.StringIO()
    handler = production_handler(stream)
    logging.getLogger().addHandler(handler)
    try:
        response = upload(client, world, visitor_token, PNG, "Genevieve-rash.png", "image/png",
                          caption="Rash on my arm since Tuesday")
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 201
    log = stream.getvalue()
    assert f"widget upload stored: conversation {response.json()['conversation_id']}" in log
    assert "Genevieve" not in log and "Rash" not in log and "127.0.0.1" not in log
