"""GET /healthz: can the hub do its work right now?"""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hub.celery import app as celery_app
from hub.lib import redis_conf


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "up"


def _redis() -> str:
    client = redis_conf.client(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "up"


def _celery() -> str:
    replies = celery_app.control.ping(timeout=1.0, limit=1)
    return "up" if replies else "no worker answered"


def _check(probe) -> tuple[bool, dict]:
    started = time.perf_counter()
    try:
        status = probe()
    except Exception as exc:  # a health check reports every failure, whatever its type
        status = f"down: {type(exc).__name__}"
    return status == "up", {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1)}


@never_cache
@require_GET
def healthz(request):
    results = {}
    healthy = True
    for name, probe in (("database", _database), ("redis", _redis), ("celery", _celery)):
        ok, results[name] = _check(probe)
        healthy &= ok
        if name == "redis" and not ok:
            results["celery"] = {"status": "down: broker unreachable", "ms": 0}
            healthy = False
            break
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": results}, status=200 if healthy else 503)
