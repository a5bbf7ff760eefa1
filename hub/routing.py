"""Websocket routes. Each socket carries its own origin and auth checks."""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from channels_app.webchat.consumer import VisitorConsumer
from console.consumers import ConsoleConsumer
from hub.lib.ws import allowed_hosts_only
from kpi.consumers import WallboardConsumer

websocket_urlpatterns = [
    path("ws/console/", allowed_hosts_only(AuthMiddlewareStack(ConsoleConsumer.as_asgi()))),
    path("ws/wallboard/", allowed_hosts_only(AuthMiddlewareStack(WallboardConsumer.as_asgi()))),
    # The widget runs on the practice's own site: its consumer checks the
    # origin against that practice's allowed origins, not ALLOWED_HOSTS.
    path("ws/widget/<str:key>/", VisitorConsumer.as_asgi()),
]
