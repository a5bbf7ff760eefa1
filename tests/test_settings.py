"""Settings come from the environment; production refuses insecure ones."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET = "k" * 20 + "Zq8-vX3_pL0wR7tY2uI9oP4aS6dF1gH5jK"


def load_settings(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("HUB_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hub.settings'); "
                               "from django.conf import settings; print(settings.SECRET_KEY[:4], settings.DEBUG)"],
        cwd=ROOT, env=clean, capture_output=True, text=True,
    )


@pytest.mark.parametrize("secret", ["", "insecure-development-secret-do-not-use-in-production",
                                    "django-insecure-" + "x" * 60, "short", "a" * 80])
def test_production_refuses_an_insecure_secret(secret):
    result = load_settings(HUB_ENV="production", SECRET_KEY=secret, ALLOWED_HOSTS="hub.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_no_allowed_hosts():
    result = load_settings(HUB_ENV="production", SECRET_KEY=GOOD_SECRET)
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr


def test_production_starts_with_a_good_secret():
    result = load_settings(HUB_ENV="production", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="hub.example.org",
                           PUBLIC_BASE_URL="https://hub.example.org")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [GOOD_SECRET[:4], "False"]


@pytest.mark.parametrize("env,message", [
    ({"HUB_ENV": "staging"}, "HUB_ENV"),
    ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
    ({"PORT": "eighty"}, "PORT must be an integer"),
    ({"PUBLIC_BASE_URL": "hub.example.org"}, "PUBLIC_BASE_URL"),
])
def test_bad_values_fail_loudly(env, message):
    result = load_settings(**env)
    assert result.returncode != 0 and message in result.stderr


def test_development_needs_nothing_configured():
    result = load_settings(HUB_ENV="development")
    assert result.returncode == 0, result.stderr


PROBE_HTTPS = """
import django, os, json
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hub.settings')
django.setup()
from django.test import Client
from django.conf import settings
plain = Client().get('/console/login/', HTTP_HOST='hub.example.org')
secure = Client().get('/console/login/', secure=True, HTTP_HOST='hub.example.org')
cookie = secure.cookies.get(settings.CSRF_COOKIE_NAME)
print(json.dumps({
    'plain_status': plain.status_code, 'plain_location': plain.get('Location', ''),
    'hsts': secure.get('Strict-Transport-Security', ''), 'frame': secure.get('X-Frame-Options', ''),
    'csrf_cookie_secure': bool(cookie and cookie['secure']),
    'session_cookie_secure': settings.SESSION_COOKIE_SECURE, 'session_httponly': settings.SESSION_COOKIE_HTTPONLY,
    'otp_roles': settings.OTP_REQUIRED_ROLES,
}))
"""


def test_production_serves_https_only_with_hsts_and_secure_cookies():
    env = {k: v for k, v in os.environ.items() if k not in ("HUB_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")}
    env.update(HUB_ENV="production", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="hub.example.org",
               PUBLIC_BASE_URL="https://hub.example.org")
    result = subprocess.run([sys.executable, "-c", PROBE_HTTPS], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    import json

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301 and seen["plain_location"].startswith("https://hub.example.org/")
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    assert seen["frame"] == "DENY"
    assert seen["csrf_cookie_secure"] and seen["session_cookie_secure"] and seen["session_httponly"]
    assert seen["otp_roles"] == ["admin", "superuser"]
