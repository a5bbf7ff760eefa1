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
    assert {"postgres", "redis", "web", "worker", "beat", "proxy"} <= set(services)


def test_every_long_running_service_has_a_health_check():
    for name in ("postgres", "redis", "web", "worker", "beat", "proxy"):
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
    # The web servers are reached through the proxy alone.
    assert "ports" not in services["web"] and "8000" in [str(p) for p in services["web"]["expose"]]


def proxy_config() -> str:
    """The proxy's nginx configuration as nginx reads it (Compose turns `$$` into `$`)."""
    target = {c["source"]: c["target"] for c in services["proxy"]["configs"]}
    assert target["proxy"] == "/etc/nginx/conf.d/default.conf"
    return compose["configs"]["proxy"]["content"].replace("$$", "$")


def test_the_proxy_balances_every_web_container_by_name():
    config = proxy_config()
    assert "resolver 127.0.0.11" in config  # Docker's DNS lists every scaled web container
    assert re.search(r"set \$web http://web:8000;\s+proxy_pass \$web;", config)
    assert any(str(port).endswith(":80") for port in services["proxy"]["ports"])


def test_the_proxy_carries_websockets_longer_than_a_heartbeat():
    from hub.lib.env import envfloat

    config = proxy_config()
    assert "proxy_http_version 1.1;" in config
    assert "proxy_set_header Upgrade $http_upgrade;" in config
    assert "proxy_set_header Connection $connection_upgrade;" in config
    heartbeat = envfloat("HEARTBEAT_SECONDS", 15.0)
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        seconds = int(re.search(rf"{name} (\d+)s;", config).group(1))
        assert seconds > 3 * heartbeat, name


def test_the_proxy_tells_the_hub_who_the_client_is():
    config = proxy_config()
    # Overwritten, never appended: Daphne takes the first address, which a
    # client could otherwise choose.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in config
    assert "--proxy-headers" in services["web"]["command"]


def test_the_hub_services_share_one_var_directory():
    # Static files collected by `migrate` are served by every web container;
    # attachments a worker fetches are served by any web container.
    var_dir = re.search(r"HUB_VAR_DIR=(\S+)", (ROOT / "Dockerfile").read_text()).group(1)
    mounts = {name: services[name].get("volumes", []) for name in ("migrate", "web", "worker", "beat")}
    for name, volumes in mounts.items():
        assert f"hub-data:{var_dir}" in volumes, name
    assert "hub-data" in compose["volumes"]


def test_the_image_builds_from_the_pinned_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert "==" in line, f"unpinned requirement: {line}"
