"""Every write a browser session can make needs the CSRF token: each URL
of the hub is posted to, signed in as a superuser who is also a practice
admin (so no permission check answers first), without the token. The only
exceptions are endpoints that take no cookies at all: Twilio's webhooks
(signed by Twilio) and the widget's upload (a visitor's bearer token)."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from hub.models import AgentProfile
from tests.conftest import make_user

NO_COOKIES = (re.compile(r"^webhooks/"), re.compile(r"^webchat/[^/]+/uploads$"))


def routes(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete(route: str) -> str:
    path = re.sub(r"<(?:int:)?[a-z_]+>", "1", route)
    path = re.sub(r"<(?:str|slug|path):[a-z_]+>", "x", path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "")
    return "/" + path


def test_no_session_write_goes_through_without_the_csrf_token(world):
    user = make_user(world.practice, "root-admin", AgentProfile.Role.ADMIN)
    user.is_superuser = user.is_staff = True
    user.save()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    checked = []
    for route in sorted(set(routes())):
        if any(p.search(route) for p in NO_COOKIES) or "(?P<" in route or route.startswith("static"):
            continue
        path = concrete(route)
        response = client.post(path, {"x": "1"})
        if response.status_code in (404, 405):
            continue  # nothing there to write to with these ids, or not a write
        assert response.status_code == 403, (path, response.status_code)
        checked.append(path)
    # The writes that matter were really tried.
    for path in ("/console/logout/", "/console/account/two-factor/", "/api/v1/conversations/1/messages",
                 "/console/retention/policy", "/api/v1/inbound"):
        assert path in checked, (path, checked)
