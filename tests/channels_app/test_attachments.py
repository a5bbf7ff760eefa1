"""MMS media: fetched after commit, checked, stored, shown only to staff who may see them."""

import pytest
from django.test import Client

from hub.actions.attachments import fetch
from hub.models import Attachment, AuditEntry, Event
from tests.channels_app.twilio_helpers import fixture, post
from tests.httpstub import start_stub

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
# The MMS fixture declares its first file a JPEG: the bytes must show it.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture
def media_host(settings, tmp_path):
    settings.SMS_BACKEND = "sandbox"
    settings.MEDIA_ROOT = tmp_path
    stub = start_stub()
    yield stub
    stub.stop()


def receive_mms(client, stub, *bodies):
    for status, body in bodies:
        stub.answer(status, body)
    params = fixture("mms_incoming", media_base=stub.url)
    assert post(client, "/webhooks/twilio/sms", params).status_code == 200
    return Event.objects.get(kind="message")


def fetch_all():
    for attachment in Attachment.objects.order_by("position"):
        fetch(attachment.pk)


@pytest.mark.usefixtures("twilio_settings")
def test_media_is_fetched_checked_and_stored(world, client, media_host, captured_events,
                                             django_capture_on_commit_callbacks):
    media_host.answer(200, JPEG)
    event = receive_mms(client, media_host)
    media_host.script.clear()
    media_host.answer(200, JPEG)
    media_host.answer(200, PDF)
    with django_capture_on_commit_callbacks(execute=True):
        fetch_all()
    event.refresh_from_db()
    assert [(a["content_type"], a["status"]) for a in event.data["attachments"]] == [
        ("image/jpeg", "stored"), ("application/pdf", "stored")]
    stored = Attachment.objects.get(position=0)
    assert stored.file.read() == JPEG and stored.size == len(JPEG)
    assert any(m["event"] == "event.updated" and m["payload"]["id"] == event.pk for m in captured_events)


@pytest.mark.usefixtures("twilio_settings")
@pytest.mark.parametrize("body,reason", [
    ("<html><script>alert(1)</script></html>", "only pictures"),
    (b"\xff\xd8\xff\xe0" + b"x" * 10, None),  # a real JPEG header, as declared, is fine
    ("GIF89a" + "x" * 10, "claims to be"),  # a picture, but not the JPEG the message said
    ("\x89PNG\r\n\x1a\n" + "x" * (6 * 1024 * 1024), "larger than"),
])
def test_files_of_other_types_or_too_large_are_rejected(world, client, media_host, body, reason):
    receive_mms(client, media_host)
    media_host.script.clear()
    media_host.answer(200, body)
    fetch(Attachment.objects.get(position=0).pk)
    first = Attachment.objects.get(position=0)
    if reason is None:
        assert first.status == "stored"
    else:
        assert first.status == "rejected" and reason in first.reason
        assert not first.file


@pytest.mark.usefixtures("twilio_settings")
def test_a_file_the_provider_no_longer_has_fails_without_retrying(world, client, media_host):
    receive_mms(client, media_host)
    media_host.answer(404, "gone")
    fetch(Attachment.objects.get(position=0).pk)
    assert Attachment.objects.get(position=0).status == "failed"


@pytest.mark.usefixtures("twilio_settings")
def test_only_staff_who_see_the_conversation_can_open_a_file(world, client, media_host):
    receive_mms(client, media_host)
    media_host.script.clear()
    media_host.answer(200, JPEG)
    first = Attachment.objects.get(position=0)
    fetch(first.pk)
    url = f"/console/attachments/{first.pk}"

    anonymous = Client()
    assert anonymous.get(url).status_code == 302  # to the login page

    bob = Client()
    bob.force_login(world.bob)  # billing: not his department
    assert bob.get(url).status_code == 404

    alice = Client()
    alice.force_login(world.alice)
    response = alice.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == JPEG
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="attachment.viewed", object_id=str(first.pk), user=world.alice).exists()
