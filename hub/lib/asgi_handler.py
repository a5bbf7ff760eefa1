"""Django's ASGI handler with the middleware chain run in one thread hop.

Django's `ASGIHandler` builds its middleware chain in async mode and adapts
each middleware that is not async-native: a `MiddlewareMixin` (sessions,
CSRF, messages, CSP...) runs its `process_request` and `process_response`
each through `sync_to_async`, and a sync-only middleware in the middle
(django-otp's, the hub's own guards) turns the chain back to sync and then,
further in, to async again through `async_to_sync`. With the hub's
middleware a request went from the event loop to its thread and back about
ten times, each time waiting for its turn on the event loop, which in a
web process also reads and writes every websocket, and each crossing cost
CPU (futures, thread wake-ups): about a quarter of the request path's
time in a web process at the full load (docs/performance.md).

No middleware or view of the hub is async, so here the chain is built in
sync mode, as under WSGI, and the whole of it, view included, runs in one
`sync_to_async` call on the request's thread (hub/lib/lanes.py gives that
thread). Django's signals and the response's sending are unchanged. An
async view would still work (Django runs it through `async_to_sync`, one
more crossing); an async-only middleware would too, at the same price.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        # Build the chain for synchronous calls whatever the server is.
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def application() -> OneHopASGIHandler:
    """What `django.core.asgi.get_asgi_application` does, with this handler."""
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()
