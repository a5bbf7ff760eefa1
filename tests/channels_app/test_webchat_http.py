"""The widget's HTTP side: script, configuration, uploads, demo page."""

import gzip
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from channels_app.webchat import service, tokens
from hub.models import Attachment, Event

PNG = (Path(__file__).resolve().parents[2] / "console/static/console/demo-card.png").read_bytes()
ORIGIN = "http://localhost:8000"


@pytest.fixture
def visitor(world):
    registered, _ = service.start(world.practice.pk, name="Pat")
    return registered, tokens.issue(world.practice.pk, registered.visitor_id)


def test_the_script_is_served_compressed_and_cacheable(client):
    response = client.get("/widget.js", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age" in response["Cache-Control"]
    body = gzip.decompress(response.content) if response.get("Content-Encoding") == "gzip" else response.content
    assert len(body) > 0


def test_config_answers_allowed_origins_only(world, client):
    ok = client.get(f"/webchat/{world.practice.widget_key}/config", HTTP_ORIGIN=ORIGIN)
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == ORIGIN
    assert ok.json()["practice_name"] == world.practice.name
    assert {"slug": "bill", "name": "Bill question"} in ok.json()["topics"]
    foreign = client.get(f"/webchat/{world.practice.widget_key}/config", HTTP_ORIGIN="https://evil.example")
    assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign
    assert client.get("/webchat/pk_unknown/config", HTTP_ORIGIN=ORIGIN).status_code == 404


def upload(client, world, token, content, name="card.png", content_type="image/png", origin=ORIGIN):
    headers = {"HTTP_ORIGIN": origin}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(f"/webchat/{world.practice.widget_key}/uploads",
                       {"file": SimpleUploadedFile(name, content, content_type=content_type), "id": "u" * 16},
                       **headers)


def test_a_visitor_uploads_a_picture(world, client, visitor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = upload(client, world, visitor[1], PNG)
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    event = Event.objects.get(pk=response.json()["event_id"])
    assert event.channel == "web" and event.data["attachments"][0]["status"] == "stored"
    assert Attachment.objects.get().file.read() == PNG


@pytest.mark.parametrize("content,name,ctype,status", [
    (b"<html><script>alert(1)</script>", "x.png", "image/png", 400),  # not what it claims
    (b"MZ\x90\x00 executable", "x.exe", "application/octet-stream", 400),
])
def test_files_that_are_not_pictures_or_pdfs_are_refused(world, client, visitor, content, name, ctype, status,
                                                          settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = upload(client, world, visitor[1], content, name, ctype)
    assert response.status_code == status
    assert "cannot be sent" in response.json()["detail"]
    assert not Attachment.objects.exists()


def test_a_file_that_is_too_large_is_refused(world, client, visitor, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    assert upload(client, world, visitor[1], PNG + b"\0" * 2000).status_code == 413


def test_uploads_need_a_valid_token_and_an_allowed_origin(world, client, visitor):
    assert upload(client, world, None, PNG).status_code == 401
    assert upload(client, world, "forged.token.here", PNG).status_code == 401
    assert upload(client, world, visitor[1], PNG, origin="https://evil.example").status_code == 403


def test_the_preflight_is_answered_for_allowed_origins(world, client):
    response = client.options(f"/webchat/{world.practice.widget_key}/uploads", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 204 and "Authorization" in response["Access-Control-Allow-Headers"]


def test_the_demo_page_embeds_the_widget(world, client):
    response = client.get("/widget/demo/")
    assert response.status_code == 200
    assert f'data-practice="{world.practice.widget_key}"' in response.content.decode()
