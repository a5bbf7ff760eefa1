"""Channel adapters by kind. Each registers itself with `@register` when its
module is imported; MODULES says where each kind lives."""

from __future__ import annotations

import importlib

from channels_app.base import ChannelAdapter

MODULES = {
    "api": "channels_app.api.adapter",
    "sms": "channels_app.sms.adapter",
    "web": "channels_app.webchat.adapter",
    "voice": "channels_app.voice.adapter",
}

_ADAPTERS: dict[str, type[ChannelAdapter]] = {}


class UnknownChannel(LookupError):
    pass


def register(cls: type[ChannelAdapter]) -> type[ChannelAdapter]:
    _ADAPTERS[cls.kind] = cls
    return cls


def get_adapter(kind: str) -> ChannelAdapter:
    if kind not in _ADAPTERS:
        module = MODULES.get(kind)
        if module is None:
            raise UnknownChannel(kind)
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            raise UnknownChannel(kind) from None
        if kind not in _ADAPTERS:
            raise UnknownChannel(kind)
    return _ADAPTERS[kind]()
