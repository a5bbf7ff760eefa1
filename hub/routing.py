"""Websocket routes. Each socket carries its own origin and auth checks."""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from console.consumers import ConsoleConsumer
from hub.lib.ws import allowed_hosts_only

websocket_urlpatterns = [
    path("ws/console/", allowed_hosts_only(AuthMiddlewareStack(ConsoleConsumer.as_asgi()))),
]
