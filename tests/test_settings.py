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
