from hub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor.urls"
ASGI_APPLICATION = "bench.floor.asgi.application"


# Bare Channels: the stock channels_redis layer, whatever the hub uses.
CHANNEL_LAYERS["default"]["BACKEND"] = "channels_redis.core.RedisChannelLayer"  # noqa: F405
