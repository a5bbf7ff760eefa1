"""The session engine: Django's cached_db store, refusing malformed keys.

Django makes every session key from lowercase letters and digits (at most
40 characters fit the table). A session cookie holding anything else, such
as a NUL character, which PostgreSQL refuses in text, is no session at all:
the request goes on signed out instead of failing in the database lookup.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore

_KEY_CHARS = frozenset(VALID_KEY_CHARS)
_KEY_MAX_LENGTH = 40


class SessionStore(CachedDbSessionStore):
    def _validate_session_key(self, key):
        return bool(super()._validate_session_key(key)) and len(key) <= _KEY_MAX_LENGTH and set(key) <= _KEY_CHARS
