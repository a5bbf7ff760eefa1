"""REST API authentication: bearer tokens for integrations, the session
(with CSRF) for the console's own calls.

A token that checked out is remembered, by its hash, for up to
`API_TOKEN_CACHE_SECONDS` (5 s) in each server process: an integration that
posts a burst of messages costs one token lookup, not one per message.
Revoking or deleting a token, deactivating its account or changing its
profile takes effect at once in the process that made the change, and
within those seconds in every other one (docs/security.md)."""

import threading
import time
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from ninja.security import HttpBearer, django_auth

from hub.lib import clock, fastsql
from hub.models import AgentProfile, ApiToken
from hub.models.api_tokens import hash_token


@cache
def _owner_sql(vendor: str) -> str:
    User = get_user_model()
    return (
        f"SELECT t.id, t.last_used_at, {fastsql.select_columns(User, 'u')}, {fastsql.select_columns(AgentProfile, 'a')} "
        f"FROM hub_apitoken t JOIN {User._meta.db_table} u ON u.id = t.user_id "
        "LEFT JOIN hub_agentprofile a ON a.user_id = u.id "
        "WHERE t.key_hash = %s AND t.revoked = %s"
    )


class _RecentTokens:
    """Token rows that checked out lately, by key hash, per process."""

    SIZE = 1024

    def __init__(self):
        self._rows: dict[str, tuple[float, tuple]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple | None:
        ttl = settings.API_TOKEN_CACHE_SECONDS
        with self._lock:
            hit = self._rows.get(key)
        if hit is None or ttl <= 0 or time.monotonic() - hit[0] > ttl:
            return None
        return hit[1]

    def put(self, key: str, row: tuple) -> None:
        if settings.API_TOKEN_CACHE_SECONDS <= 0:
            return
        with self._lock:
            if len(self._rows) >= self.SIZE and key not in self._rows:
                self._rows.clear()
            self._rows[key] = (time.monotonic(), row)

    def replace(self, key: str, change) -> None:
        """Apply `change` to a remembered row; it stays as old as it was."""
        with self._lock:
            hit = self._rows.get(key)
            if hit is not None:
                self._rows[key] = (hit[0], change(hit[1]))

    def forget(self) -> None:
        with self._lock:
            self._rows.clear()


recent_tokens = _RecentTokens()


def forget_recent_tokens() -> None:
    """A token, an account or a profile changed: look every token up again."""
    recent_tokens.forget()


def _token_row(key: str) -> tuple | None:
    row = recent_tokens.get(key)
    if row is None:
        with connection.cursor() as cursor:
            cursor.execute(_owner_sql(connection.vendor), [key, False])
            row = cursor.fetchone()
        if row is not None:
            recent_tokens.put(key, tuple(row))
    return row


def _token_owner(key: str):
    """(token, user with its agent profile) for a live token's hash, in one
    query (or none, when this process checked it in the last few seconds):
    every integration request starts here. Fresh instances every time:
    requests share no model objects."""
    User = get_user_model()
    row = _token_row(key)
    if row is None:
        return None, None
    token_id, last_used_at = row[0], row[1]
    split = 2 + fastsql.width(User)
    user = fastsql.from_row(User, row[2:split])
    profile = fastsql.from_row(AgentProfile, row[split:])
    if profile is not None:
        profile.user = user  # also caches user.agent
    token = ApiToken(pk=token_id, last_used_at=fastsql.convert(ApiToken, "last_used_at", last_used_at))
    return token, user


def _note_use(key: str, token: ApiToken, now) -> None:
    """Record when a token was last used, at most every five minutes."""
    if token.last_used_at is not None and now - token.last_used_at <= timedelta(minutes=5):
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    recent_tokens.replace(key, lambda row: (row[0], now, *row[2:]))


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        if not token or len(token) > 200:
            return None
        key = hash_token(token)
        found, user = _token_owner(key)
        if found is None or not user.is_active:
            return None
        _note_use(key, found, clock.now())
        request.user = user
        request.api_via = "api"
        return user


api_auth = [TokenAuth(), django_auth]
