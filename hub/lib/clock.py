"""The hub's one source of "now", so tests can move time without sleeping."""

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    return _source() if _source is not None else timezone.now()


def set_source(source: Callable[[], datetime] | None) -> None:
    global _source
    _source = source
