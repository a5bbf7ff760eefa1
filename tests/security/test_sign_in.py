"""Signing in and staying signed in: brute force is locked out, idle
sessions end (pages, API and open sockets alike), signing out closes the
person's sockets, and two-factor sign-in holds a session at the door until
it is passed."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hub.asgi import application
from hub.lib.ws import CLOSE_IDLE_LOGOFF, CLOSE_SESSION_EXPIRED, CLOSE_UNAUTHENTICATED
from hub.models import AuditEntry
from tests.conftest import build_world
from tests.console.helpers import ORIGIN, hello


def sign_in(client: Client, username: str, password: str | None = None):
    return client.post("/console/login/", {"username": username, "password": password or f"{username}-password-1"})


def signed_in(user) -> Client:
    client = Client()
    assert sign_in(client, user.username).status_code == 302
    return client


# --- brute force ---------------------------------------------------------------------

def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_one(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, "alice", "not-her-password")
        assert response.status_code in (200, 429)
        assert "_auth_user_id" not in client.session
    locked = sign_in(client, "alice")  # the right password, too late
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/console/").status_code == 302
    # Someone else in the same office signs in as usual.
    assert sign_in(Client(), "bob").status_code == 302
    # The attempts show in the practice's own audit log, for its admins.
    failed = AuditEntry.objects.filter(action="session.sign_in_failed", practice=world.practice)
    assert failed.count() >= settings.AXES_FAILURE_LIMIT
    assert all(row.detail == {"username": "alice"} for row in failed)
    # A practice admin lifts the lock before it expires by itself.
    call_command("axes_reset_username", "alice")
    assert sign_in(Client(), "alice").status_code == 302


def test_many_attempts_from_one_address_are_throttled_whatever_the_username(world, settings):
    settings.LOGIN_ATTEMPTS_PER_IP = 3
    client = Client(REMOTE_ADDR="203.0.113.9")
    for name in ("alice", "bob", "sam"):
        assert sign_in(client, name, "guess-1234567").status_code == 200
    throttled = sign_in(client, "carol", "guess-1234567")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert sign_in(Client(REMOTE_ADDR="203.0.113.10"), "bob").status_code == 302


def test_weak_passwords_are_refused(world):
    from django.contrib.auth.password_validation import ValidationError, validate_password

    for weak in ("short1", "password1234", "123456789012", "aliceadams12"):
        with pytest.raises(ValidationError):
            validate_password(weak, user=world.alice)
    validate_password("correct horse battery staple 9", user=world.alice)


# --- automatic logoff over HTTP ---------------------------------------------------------

def test_an_idle_session_is_signed_out_on_its_next_page(world, frozen_clock):
    client = signed_in(world.alice)
    assert client.get("/console/").status_code == 200
    frozen_clock.advance(minutes=settings.IDLE_LOGOFF_MINUTES + 1)
    page = client.get("/console/")
    assert page.status_code == 302 and "expired=1" in page["Location"]
    login = client.get(page["Location"])
    assert "signed out after 15 minutes without activity" in login.content.decode()
    assert AuditEntry.objects.filter(action="session.idle_logoff", user=world.alice).count() == 1
    # The session is gone: the API says so too.
    assert client.get("/api/v1/conversations").status_code == 401


def test_the_api_answers_401_with_a_reason_when_the_session_went_idle(world, frozen_clock):
    client = signed_in(world.alice)
    frozen_clock.advance(minutes=settings.IDLE_LOGOFF_MINUTES + 1)
    response = client.get("/api/v1/conversations")
    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"


def test_activity_keeps_a_session_and_background_requests_do_not(world, frozen_clock):
    client = signed_in(world.alice)
    for _ in range(3):  # 3 x 10 minutes of real use
        frozen_clock.advance(minutes=10)
        assert client.get("/api/v1/conversations").status_code == 200
    frozen_clock.advance(minutes=10)
    assert client.get("/api/v1/conversations", HTTP_X_HUB_BACKGROUND="1").status_code == 200
    frozen_clock.advance(minutes=10)  # 20 minutes since the last real use
    assert client.get("/api/v1/conversations", HTTP_X_HUB_BACKGROUND="1").status_code == 401


# --- sockets --------------------------------------------------------------------------

async def console_socket(client: Client):
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=[(b"origin", ORIGIN), (b"cookie", cookie)])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def closed_with(communicator, timeout=5):
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return message.get("code"), message.get("reason", "")




@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_open_socket_closes_when_its_session_goes_idle(frozen_clock):
    world = await database_sync_to_async(build_world)()
    client = await database_sync_to_async(signed_in)(world.alice)
    socket = await console_socket(client)
    await hello(socket)
    frozen_clock.advance(minutes=settings.IDLE_LOGOFF_MINUTES + 1)
    await socket.send_json_to({"type": "ping"})
    code, reason = await closed_with(socket)
    assert code == CLOSE_IDLE_LOGOFF and "inactivity" in reason
    assert await database_sync_to_async(lambda: client.get("/console/").status_code)() == 302
    assert await database_sync_to_async(
        AuditEntry.objects.filter(action="session.idle_logoff", via="socket").count)() == 1


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_activity_on_the_socket_keeps_the_session_and_a_warning_comes_first(frozen_clock):
    world = await database_sync_to_async(build_world)()
    client = await database_sync_to_async(signed_in)(world.alice)
    socket = await console_socket(client)
    await hello(socket)
    frozen_clock.advance(minutes=10)
    await socket.send_json_to({"type": "activity"})
    await socket.send_json_to({"type": "ping"})  # the activity is handled before time moves on
    assert (await socket.receive_json_from(timeout=5))["type"] == "pong"
    frozen_clock.advance(minutes=10)  # 20 minutes since sign-in, 10 since activity
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "pong"
    frozen_clock.advance(minutes=4, seconds=30)  # 90 s left
    await socket.send_json_to({"type": "ping"})
    warning = await socket.receive_json_from(timeout=5)
    assert warning["type"] == "session.expiring" and 0 < warning["seconds_left"] <= 120
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_signing_out_closes_the_sessions_open_sockets_and_no_others():
    world = await database_sync_to_async(build_world)()
    alice = await database_sync_to_async(signed_in)(world.alice)
    bob = await database_sync_to_async(signed_in)(world.bob)
    alice_socket, bob_socket = await console_socket(alice), await console_socket(bob)
    await hello(alice_socket)
    await hello(bob_socket)
    response = await database_sync_to_async(lambda: alice.post("/console/logout/"))()
    assert response.status_code == 302
    code, reason = await closed_with(alice_socket)
    assert code == CLOSE_SESSION_EXPIRED and reason == "signed out"
    await bob_socket.send_json_to({"type": "ping"})
    assert (await bob_socket.receive_json_from(timeout=5))["type"] == "pong"
    await bob_socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_with_a_signed_out_session_is_refused():
    world = await database_sync_to_async(build_world)()
    client = await database_sync_to_async(signed_in)(world.alice)
    cookie_value = client.cookies[settings.SESSION_COOKIE_NAME].value
    await database_sync_to_async(lambda: client.post("/console/logout/"))()
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=[
        (b"origin", ORIGIN), (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie_value}".encode())])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    code, _ = await closed_with(communicator)
    assert code == CLOSE_UNAUTHENTICATED


# --- two-factor sign-in --------------------------------------------------------------------

def forget_failures(device: TOTPDevice) -> None:
    """A wrong code makes the next try wait (django-otp's throttling); tests
    do not wait, and a code is accepted once only."""
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.last_t = -1
    device.save()


def enroll(client: Client) -> TOTPDevice:
    page = client.get("/console/account/two-factor/")
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(confirmed=False)
    assert client.post("/console/account/two-factor/", {"otp_token": "000000" if totp(device.bin_key) != 0 else "111111"}
                       ).status_code == 400
    forget_failures(device)
    answer = client.post("/console/account/two-factor/", {"otp_token": f"{totp(device.bin_key):06d}"})
    assert answer.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_with_two_factor_on_a_password_alone_opens_nothing(world):
    device = enroll(signed_in(world.alice))
    client = Client()
    response = sign_in(client, "alice")
    assert response.status_code == 302
    page = client.get("/console/")
    assert page.status_code == 302 and page["Location"].startswith("/console/login/verify/")
    assert client.get("/api/v1/conversations").status_code == 403
    assert client.get("/kpi/").status_code == 302
    assert client.post("/console/login/verify/", {"otp_token": "12345"}).status_code == 400
    assert client.post("/console/login/verify/", {"otp_token": "000000" if totp(device.bin_key) else "111111"}
                       ).status_code == 400
    forget_failures(device)
    verified = client.post("/console/login/verify/?next=/console/", {"otp_token": f"{totp(device.bin_key):06d}"})
    assert verified.status_code == 302 and verified["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    assert AuditEntry.objects.filter(action="session.second_factor", user=world.alice).count() == 1


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_is_refused_until_the_second_factor_is_passed():
    world = await database_sync_to_async(build_world)()
    await database_sync_to_async(lambda: enroll(signed_in(world.alice)))()
    client = Client()
    await database_sync_to_async(sign_in)(client, "alice")
    socket = await console_socket(client)
    code, reason = await closed_with(socket)
    assert code == CLOSE_UNAUTHENTICATED and "signing in" in reason


def test_a_role_that_requires_two_factor_must_enroll_first(world, settings):
    settings.OTP_REQUIRED_ROLES = ["supervisor"]
    client = signed_in(world.sam)
    page = client.get("/console/")
    assert page.status_code == 302 and page["Location"].startswith("/console/account/two-factor/")
    assert client.get("/api/v1/conversations").status_code == 403
    enroll(client)
    assert client.get("/console/").status_code == 200
    # Agents are not held.
    assert signed_in(world.alice).get("/console/").status_code == 200


def test_two_factor_cannot_be_turned_off_without_a_code_or_where_required(world, settings):
    client = signed_in(world.alice)
    device = enroll(client)
    assert client.post("/console/account/two-factor/", {"action": "disable", "otp_token": "000000"}).status_code == 400
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    settings.OTP_REQUIRED_ROLES = ["agent"]
    forget_failures(device)
    answer = client.post("/console/account/two-factor/", {"action": "disable", "otp_token": f"{totp(device.bin_key):06d}"})
    assert answer.status_code == 400 and TOTPDevice.objects.filter(pk=device.pk).exists()
