"""What every provider webhook shares: no CSRF (the provider signs instead),
POST only, and a retryable answer while the database is unreachable."""

from __future__ import annotations

import functools
import logging

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

log = logging.getLogger("hub.webhooks")


def provider_webhook(view):
    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            # Nothing half-written: the transaction rolled back. Twilio
            # retries on 5xx or calls the fallback URL.
            log.warning("webhook deferred: database unavailable (%s) path=%s", type(exc).__name__, request.path)
            return HttpResponse("database unavailable, retry", status=503, headers={"Retry-After": "5"},
                                content_type="text/plain")
        except DatabaseError as exc:
            log.error("webhook failed: database error (%s) path=%s", type(exc).__name__, request.path)
            return HttpResponse("temporary failure, retry", status=503, headers={"Retry-After": "5"},
                                content_type="text/plain")

    return wrapped
