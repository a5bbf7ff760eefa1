import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.lib.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_is_503_when_no_celery_worker_answers(db, client):
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "up"
    assert checks["redis"]["status"] == "up"
    assert checks["celery"]["status"] == "no worker answered"


def test_healthz_is_503_when_redis_is_unreachable(db, client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["status"].startswith("down")


@pytest.mark.slow
def test_healthz_is_200_with_a_real_worker_running(db, client, settings):
    env = {**os.environ, "CELERY_QUEUE": "healthz-test"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "hub", "worker", "--pool", "solo", "--queues", "healthz-test",
         "--hostname", f"healthz-{os.getpid()}@%h", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            response = client.get("/healthz")
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert response.status_code == 200, response.json()
        assert response.json() == {"status": "ok", "checks": response.json()["checks"]}
        assert {c["status"] for c in response.json()["checks"].values()} == {"up"}
    finally:
        worker.terminate()
        worker.wait(20)
