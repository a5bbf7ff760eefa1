"""Channel adapters by kind. The adapter for kind `x` lives in
`channels_app.x.adapter` and registers itself with `@register`."""

from __future__ import annotations

import importlib
import re

from channels_app.base import ChannelAdapter

_ADAPTERS: dict[str, type[ChannelAdapter]] = {}
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class UnknownChannel(LookupError):
    pass


def register(cls: type[ChannelAdapter]) -> type[ChannelAdapter]:
    _ADAPTERS[cls.kind] = cls
    return cls


def get_adapter(kind: str) -> ChannelAdapter:
    if kind not in _ADAPTERS:
        if not _KIND.match(kind or ""):
            raise UnknownChannel(kind)
        try:
            importlib.import_module(f"channels_app.{kind}.adapter")
        except ModuleNotFoundError:
            raise UnknownChannel(kind) from None
        if kind not in _ADAPTERS:
            raise UnknownChannel(kind)
    return _ADAPTERS[kind]()
