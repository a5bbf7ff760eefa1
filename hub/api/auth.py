"""REST API authentication: bearer tokens for integrations, the session
(with CSRF) for the console's own calls."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from ninja.security import HttpBearer, django_auth

from hub.lib import clock, fastsql
from hub.models import AgentProfile, ApiToken
from hub.models.api_tokens import hash_token


def _token_owner(raw: str):
    """(token, user with its agent profile) for a live token, in one query:
    every integration request starts here."""
    User = get_user_model()
    sql = (
        f"SELECT t.id, t.last_used_at, {fastsql.select_columns(User, 'u')}, {fastsql.select_columns(AgentProfile, 'a')} "
        f"FROM hub_apitoken t JOIN {User._meta.db_table} u ON u.id = t.user_id "
        "LEFT JOIN hub_agentprofile a ON a.user_id = u.id "
        "WHERE t.key_hash = %s AND t.revoked = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [hash_token(raw), False])
        row = cursor.fetchone()
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


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        if not token or len(token) > 200:
            return None
        found, user = _token_owner(token)
        if found is None or not user.is_active:
            return None
        now = clock.now()
        if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = user
        request.api_via = "api"
        return user


api_auth = [TokenAuth(), django_auth]
