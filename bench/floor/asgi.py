import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")
django_app = get_asgi_application()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class FloorConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add("floor", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("floor", self.channel_name)

    async def floor_message(self, message):
        await self.send_json({"body": message["body"]})


application = ProtocolTypeRouter({
    "http": django_app,
    "websocket": URLRouter([path("ws/floor/", FloorConsumer.as_asgi())]),
})
