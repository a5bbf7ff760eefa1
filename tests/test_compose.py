"""docker-compose.yml runs the production shape. No Docker engine runs here,
so the file itself is checked: services, commands, health checks, and the
same environment names the settings read."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
services = compose["services"]


def test_it_has_the_production_services():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)


def test_every_long_running_service_has_a_health_check():
    for name in ("postgres", "redis", "web", "worker", "beat"):
        check = services[name]["healthcheck"]
        assert check["test"] and check["interval"], name


def test_the_hub_services_run_the_right_programs():
    assert services["web"]["command"][0] == "daphne" and "hub.asgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "--app", "hub", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "--app", "hub", "beat"]
    assert "migrate" in " ".join(services["migrate"]["command"])


def test_the_hub_services_get_the_settings_environment():
    settings_source = (ROOT / "hub" / "settings.py").read_text()
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_BASE_URL",
                    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "HOST", "PORT"):
            assert key in env, (name, key)
            assert re.search(rf'env\w*\("{key}"', settings_source), f"settings do not read {key}"
        assert env["HUB_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")


def test_the_hub_waits_for_healthy_dependencies():
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_web_and_worker_can_be_scaled():
    # No fixed container name or host port, so --scale web=2 --scale worker=2 works.
    for name in ("web", "worker"):
        assert "container_name" not in services[name]
        for port in services[name].get("ports", []):
            assert ":" not in str(port), f"{name} publishes a fixed host port"


def test_the_image_builds_from_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert "==" in line, f"unpinned requirement: {line}"
