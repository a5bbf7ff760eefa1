import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

# Django's handler, its middleware chain run in one hop (hub/lib/asgi_handler.py).
from hub.lib.asgi_handler import application as django_application  # noqa: E402

django_asgi_app = django_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from hub.routing import websocket_urlpatterns  # noqa: E402

# --- Hardening (docs/hardening.md) ---------------------------------------------
# Uploads over their limit are refused before their body is read, and
# Daphne's access log has patient data (query strings) redacted.
from hub.lib.logredact import redact_daphne_access_log  # noqa: E402
from hub.lib.uploads import RequestBodyLimit  # noqa: E402

redact_daphne_access_log()
# --- end hardening ---------------------------------------------------------------

# Requests run on a fixed set of reused threads (hub/lib/lanes.py).
from django.conf import settings  # noqa: E402

from hub.lib.lanes import RequestLanes  # noqa: E402

application = ProtocolTypeRouter({
    "http": RequestBodyLimit(RequestLanes(django_asgi_app, settings.HTTP_THREADS)),
    "websocket": URLRouter(websocket_urlpatterns),
})
