"""Every page answers with the hub's Content-Security-Policy and may not be
framed; the widget's cross-origin endpoints keep working under it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.processes import ROOT

ORIGIN = "http://localhost:8000"


def policy(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = set(sources)
    return directives


def assert_hub_policy(response, socket_origin="ws://localhost:8000"):
    found = policy(response)
    assert found["default-src"] == {"'self'"}
    assert found["script-src"] == {"'self'"}
    assert found["style-src"] == {"'self'"}  # no 'unsafe-inline' anywhere
    assert found["img-src"] == {"'self'", "data:", "blob:"}
    assert found["connect-src"] == {"'self'", socket_origin}
    assert found["object-src"] == {"'none'"}
    assert found["base-uri"] == {"'none'"}
    assert found["form-action"] == {"'self'"}
    assert found["frame-ancestors"] == {"'none'"}
    assert response["X-Frame-Options"] == "DENY"
    assert "report-uri" not in found


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", ["/console/login/", "/widget/demo/"])
def test_public_pages_carry_the_policy(world, client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_hub_policy(response)


def test_the_console_carries_the_policy(world):
    response = signed_in(world.alice).get("/console/")
    assert response.status_code == 200
    assert_hub_policy(response)


@pytest.mark.parametrize("url", ["/kpi/", "/kpi/wallboard/"])
def test_the_kpi_pages_carry_the_policy(world, url):
    response = signed_in(world.sam).get(url)
    assert response.status_code == 200
    assert_hub_policy(response)


def test_the_admin_carries_the_policy(world, client):
    assert_hub_policy(client.get("/admin/login/"))
    root = get_user_model().objects.create_superuser("root", "root@hub.invalid", "root-password-1")
    admin = signed_in(root)
    for url in ("/admin/", f"/admin/hub/practice/{world.practice.pk}/change/"):
        response = admin.get(url)
        assert response.status_code == 200, url
        assert_hub_policy(response)


@pytest.mark.parametrize("public,expected", [("https://hub.example.org", "wss://hub.example.org"),
                                             ("http://hub.local:8080", "ws://hub.local:8080")])
def test_the_socket_origin_follows_the_public_url(public, expected):
    """connect-src names the public host's socket origin (wss:// behind TLS),
    and CSP_REPORT_URI adds a report-uri."""
    env = {**os.environ, "PUBLIC_BASE_URL": public, "CSP_REPORT_URI": "https://reports.example.org/csp"}
    result = subprocess.run(
        [sys.executable, "-c", "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hub.settings'); "
                               "from django.conf import settings; d = settings.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
                               "print(' '.join(d['connect-src']), d['report-uri'])"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["'self'", expected, "https://reports.example.org/csp"]


def test_a_report_uri_is_added_when_configured(world, client, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
                                                       "report-uri": "https://reports.example.org/csp"}}
    assert policy(client.get("/console/login/"))["report-uri"] == {"https://reports.example.org/csp"}


def test_the_widgets_cross_origin_endpoints_still_answer_their_origin(world, client):
    config = client.get(f"/webchat/{world.practice.widget_key}/config", HTTP_ORIGIN=ORIGIN)
    assert config.status_code == 200 and config["Access-Control-Allow-Origin"] == ORIGIN
    preflight = client.options(f"/webchat/{world.practice.widget_key}/uploads", HTTP_ORIGIN=ORIGIN)
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == ORIGIN
    script = client.get("/widget.js")
    assert script.status_code == 200 and script["Access-Control-Allow-Origin"] == "*"
