"""The Twilio contract server itself, driven by the real twilio client."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import httpx
import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tests.contracts.twilio_server import SPEC_PATH, TwilioContractServer, count_segments, load_spec

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "contract-token-1"
PATIENT = "+15555550101"
PRACTICE = "+15550100100"
CALL = "CA" + "1" * 32
RECORDING = "RE" + "2" * 32
MESSAGES = rf"/Accounts/{SID}/Messages\.json$"


@pytest.fixture
def server():
    with TwilioContractServer(SID, TOKEN) as srv:
        yield srv


@pytest.fixture
def client(server):
    c = Client(SID, TOKEN)
    c.api.base_url = server.base_url
    return c


def url(server, tail):
    return f"{server.base_url}/2010-04-01/Accounts/{SID}/{tail}"


def test_create_fetch_and_list_messages_round_trip(server, client):
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    created = client.messages.create(to=PATIENT, from_=PRACTICE, body="Your visit is at 3pm",
                                     status_callback="https://hub.example/twilio/status")
    assert created.sid.startswith("SM") and len(created.sid) == 34
    assert created.status == "queued" and created.num_segments == "1" and created.api_version == "2010-04-01"
    assert created.account_sid == SID and created.direction == "outbound-api"
    assert created.uri == f"/2010-04-01/Accounts/{SID}/Messages/{created.sid}.json"
    assert abs(created.date_created - datetime.now(timezone.utc)) < timedelta(minutes=1)

    fetched = client.messages(created.sid).fetch()
    assert (fetched.sid, fetched.body, fetched.to, fetched.from_) == (created.sid, "Your visit is at 3pm", PATIENT, PRACTICE)

    client.messages.create(to="+15555550199", from_=PRACTICE, body="someone else")
    found = client.messages.list(to=PATIENT, date_sent_after=before)
    assert [m.sid for m in found] == [created.sid]
    assert client.messages.list(to=PATIENT, date_sent_before=before) == []
    assert len(client.messages.list(from_=PRACTICE)) == 2
    # Paging follows next_page_uri.
    assert len(client.messages.list(page_size=1)) == 2

    sent = server.requests[0]
    assert sent.validated and sent.form["StatusCallback"] == "https://hub.example/twilio/status"
    listed = [r for r in server.requests if r.method == "GET" and r.path.endswith("/Messages.json")][0]
    assert listed.query["To"] == PATIENT and "DateSent>" in listed.query
    server.assert_clean()


def test_date_filters_use_the_server_clock_and_optionally_whole_days():
    now = datetime(2026, 11, 26, 17, 0, tzinfo=timezone.utc)
    with TwilioContractServer(SID, TOKEN, clock=lambda: now, date_filters_by_day=True) as srv:
        c = srv.client()
        message = c.messages.create(to=PATIENT, from_=PRACTICE, body="hi")
        assert srv.messages[message.sid]["date_created"] == "Thu, 26 Nov 2026 17:00:00 +0000"
        # Same GMT day, later time: still found when filtering by day.
        assert [m.sid for m in c.messages.list(date_sent_after=now + timedelta(hours=1))] == [message.sid]
        assert c.messages.list(date_sent_after=now + timedelta(days=1)) == []
        srv.assert_clean()


def test_missing_message_is_twilio_404(server, client):
    with pytest.raises(TwilioRestException) as caught:
        client.messages("SM" + "f" * 32).fetch()
    assert caught.value.status == 404 and caught.value.code == 20404
    server.assert_clean()  # a legitimate 404, not a contract violation


def test_messaging_service_media_and_segments(server, client):
    service = "MG" + "a" * 32
    message = client.messages.create(to=PATIENT, messaging_service_sid=service, body="你" * 71,
                                     media_url=["https://hub.example/a.jpg", "https://hub.example/b.jpg"])
    assert message.status == "accepted" and message.from_ is None and message.messaging_service_sid == service
    assert message.num_media == "2" and message.num_segments == "2"  # 71 UCS-2 characters
    assert server.requests[-1].form["MediaUrl"] == ["https://hub.example/a.jpg", "https://hub.example/b.jpg"]
    assert (count_segments("a" * 160), count_segments("a" * 161), count_segments("[" * 80), count_segments("😀" * 35)) == (1, 2, 1, 1)
    server.assert_clean()


def test_wrong_auth_token_is_refused(server):
    intruder = Client(SID, "not-the-token")
    intruder.api.base_url = server.base_url
    with pytest.raises(TwilioRestException) as caught:
        intruder.messages.create(to=PATIENT, from_=PRACTICE, body="hi")
    assert caught.value.status == 401 and caught.value.code == 20003
    assert server.messages == {}
    anonymous = httpx.get(url(server, "Messages.json"))
    assert anonymous.status_code == 401
    assert [r.validated for r in server.requests] == [False, False]
    assert len(server.violations) == 2


def test_missing_required_parameter_is_a_violation(server):
    auth = (SID, TOKEN)
    answer = requests.post(url(server, "Messages.json"), data={"From": PRACTICE, "Body": "no To"}, auth=auth)
    assert answer.status_code == 400
    error = answer.json()
    assert error["code"] == 20001 and error["status"] == 400 and "'To' is a required property" in error["message"]
    assert error["more_info"].startswith("https://www.twilio.com/docs/errors/")
    # An empty body too (openapi-core alone would skip it).
    assert requests.post(url(server, "Messages.json"), auth=auth).status_code == 400
    assert len(server.violations) == 2
    method, path, text = server.violations[0]
    assert (method, path) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json") and "'To'" in text
    assert server.messages == {}
    with pytest.raises(AssertionError, match="is a required property"):
        server.assert_clean()


@pytest.mark.parametrize("data, code, fragment", [
    ({"To": PATIENT, "Body": "hi"}, 21603, "From"),
    ({"To": PATIENT, "From": PRACTICE}, 21602, "Body"),
    ({"To": PATIENT, "From": PRACTICE, "Body": "hi", "StatusCalback": "https://x.example/cb"}, 20001, "StatusCalback"),
    ({"To": PATIENT, "From": PRACTICE, "Body": "hi", "StatusCallback": "/relative"}, 21609, "absolute"),
    ({"To": PATIENT, "From": PRACTICE, "Body": "hi", "ProvideFeedback": "maybe"}, 20001, "ProvideFeedback"),
    ({"To": [PATIENT, "+15555550102"], "From": PRACTICE, "Body": "hi"}, 20001, "repeated"),
])
def test_other_request_violations(server, data, code, fragment):
    answer = requests.post(url(server, "Messages.json"), data=data, auth=(SID, TOKEN))
    assert (answer.status_code, answer.json()["code"]) == (400, code)
    assert fragment in server.violations[0][2]


def test_unknown_path_and_bad_query_are_violations(server):
    auth = (SID, TOKEN)
    assert httpx.get(url(server, "Nonsense.json"), auth=auth).json()["status"] == 404
    # The spec types DateSent> as date-time: a bare date is refused.
    assert httpx.get(url(server, "Messages.json"), params={"DateSent>": "2026-01-02"}, auth=auth).status_code == 400
    assert httpx.get(url(server, "Messages.json"), params={"Bogus": "1"}, auth=auth).status_code == 400
    assert httpx.delete(url(server, "Messages.json"), auth=auth).status_code == 405
    assert len(server.violations) == 4 and "DateSent>" in server.violations[1][2]


def test_fail_next_scripts_twilio_errors(server, client):
    server.fail_next("POST", MESSAGES, status=429)
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=PATIENT, from_=PRACTICE, body="hi")
    assert caught.value.status == 429 and caught.value.code == 20429

    server.fail_next("POST", MESSAGES, status=400, code=21211, times=2)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(to="+1555", from_=PRACTICE, body="hi")
        assert caught.value.status == 400 and caught.value.code == 21211
        assert "Invalid 'To' Phone Number" in caught.value.msg

    server.fail_next("*", r"/Messages/", status=500, body={"code": 21610, "message": "unsubscribed",
                                                            "more_info": "", "status": 500})
    assert client.messages.create(to=PATIENT, from_=PRACTICE, body="after the faults").status == "queued"
    with pytest.raises(TwilioRestException) as caught:
        client.messages(next(iter(server.messages))).fetch()
    assert (caught.value.status, caught.value.code) == (500, 21610)
    assert len(server.messages) == 1 and server.count("POST", MESSAGES) == 4
    server.assert_clean()


def test_fail_next_with_delay_times_out_the_client(server):
    impatient = Client(SID, TOKEN, http_client=TwilioHttpClient(timeout=0.2))
    impatient.api.base_url = server.base_url
    server.fail_next("POST", MESSAGES, status=503, delay=0.6)
    with pytest.raises(requests.exceptions.Timeout):
        impatient.messages.create(to=PATIENT, from_=PRACTICE, body="hi")
    assert server.messages == {}


def test_delay_next_still_creates_the_message(server):
    impatient = Client(SID, TOKEN, http_client=TwilioHttpClient(timeout=0.2))
    impatient.api.base_url = server.base_url
    server.delay_next("POST", MESSAGES, seconds=0.6)
    with pytest.raises(requests.exceptions.Timeout):
        impatient.messages.create(to=PATIENT, from_=PRACTICE, body="did it send?")
    [message] = server.messages.values()  # Twilio accepted it; the client never heard
    assert message["body"] == "did it send?" and message["status"] == "queued"
    assert impatient.messages.create(to=PATIENT, from_=PRACTICE, body="retry").status == "queued"
    server.assert_clean()


def test_calls_update_and_fetch(server, client):
    server.add_call(CALL, from_=PATIENT, to=PRACTICE, status="in-progress")
    updated = client.calls(CALL).update(url="https://hub.example/voice/hold", method="POST")
    assert updated.sid == CALL and updated._from == PATIENT and updated.status == "in-progress"
    assert updated.from_formatted == "(555) 555-0101"
    ended = client.calls(CALL).update(twiml="<Response><Hangup/></Response>", status="completed")
    assert ended.status == "completed" and ended.end_time is not None
    assert client.calls(CALL).fetch().status == "completed"
    assert [u.get("Url") for u in server.call_updates[CALL]] == ["https://hub.example/voice/hold", None]

    unknown = "CA" + "9" * 32
    assert client.calls(unknown).update(url="https://hub.example/voice/next").sid == unknown
    with pytest.raises(TwilioRestException) as caught:
        client.calls("CA" + "8" * 32).fetch()
    assert caught.value.status == 404
    server.assert_clean()

    answer = requests.post(url(server, f"Calls/{CALL}.json"), data={"Twiml": "<Say>hi</Say"}, auth=(SID, TOKEN))
    assert answer.status_code == 400 and "twiml" in server.violations[0][2].lower()


def test_queues_and_dequeue(server, client):
    queue = server.add_queue("Scheduling")
    other = "CA" + "3" * 32
    server.add_call(CALL, PATIENT, PRACTICE, "in-progress")
    server.add_queue_member(queue, CALL)
    server.add_queue_member(queue, other)

    [listed] = client.queues.list()
    assert (listed.sid, listed.friendly_name, listed.current_size) == (queue, "Scheduling", 2)
    members = client.queues(queue).members.list()
    assert [(m.call_sid, m.position) for m in members] == [(CALL, 1), (other, 2)]

    dequeued = client.queues(queue).members(CALL).update(url="https://hub.example/voice/agent", method="POST")
    assert dequeued.call_sid == CALL and dequeued.queue_sid == queue
    assert [(m.call_sid, m.position) for m in client.queues(queue).members.list()] == [(other, 1)]
    assert server.call_updates[CALL][-1]["Url"] == "https://hub.example/voice/agent"
    assert client.queues(queue).members("Front").update(url="https://hub.example/voice/agent").call_sid == other

    with pytest.raises(TwilioRestException) as caught:
        client.queues(queue).members(CALL).update(url="https://hub.example/voice/agent")
    assert caught.value.status == 404

    created = client.queues.create(friendly_name="Billing", max_size=10)
    assert created.sid.startswith("QU") and created.max_size == 10 and created.current_size == 0
    assert sorted(q.friendly_name for q in client.queues.list()) == ["Billing", "Scheduling"]
    server.assert_clean()


def test_recording_fetch_and_media_download(server, client):
    audio = b"ID3\x03fake-mp3-bytes"
    server.add_recording(RECORDING, CALL, content=audio, content_type="audio/mpeg", duration=42)
    recording = client.recordings(RECORDING).fetch()
    assert (recording.sid, recording.call_sid, recording.duration, recording.status) == (RECORDING, CALL, "42", "completed")
    assert recording.media_url == url(server, f"Recordings/{RECORDING}")
    via_call = client.calls(CALL).recordings(RECORDING).fetch()
    assert (via_call.sid, via_call.track) == (RECORDING, "both")

    download = httpx.get(recording.media_url + ".mp3", auth=(SID, TOKEN))
    assert download.status_code == 200 and download.content == audio
    assert download.headers["content-type"] == "audio/mpeg"
    assert httpx.get(url(server, f"Recordings/{RECORDING}.wav"), auth=(SID, TOKEN)).content == audio
    server.assert_clean()

    assert httpx.get(recording.media_url + ".mp3").status_code == 401
    assert httpx.get(url(server, f"Recordings/RE{'4' * 32}.mp3"), auth=(SID, TOKEN)).status_code == 404
    assert len(server.violations) == 1  # only the unauthenticated download


def test_message_media_requires_basic_auth(server):
    path = f"/2010-04-01/Accounts/{SID}/Messages/MM{'5' * 32}/Media/ME{'6' * 32}"
    media_url = server.add_media(path, b"\x89PNG-bytes", "image/png")
    assert media_url == server.base_url + path
    assert httpx.get(media_url).status_code == 401
    answer = httpx.get(media_url, auth=(SID, TOKEN))
    assert (answer.status_code, answer.content, answer.headers["content-type"]) == (200, b"\x89PNG-bytes", "image/png")
    server.fail_next("GET", r"/Media/ME", status=500)
    assert httpx.get(media_url, auth=(SID, TOKEN)).status_code == 500
    assert server.count("GET", r"/Media/ME") == 3


def test_own_responses_are_checked_against_the_spec(server, client):
    sid = server.add_message(to=PATIENT, from_=PRACTICE, body="inbound")
    assert client.messages(sid).fetch().direction == "inbound"
    server.update_message(sid, status="teleported")
    with pytest.raises(TwilioRestException) as caught:
        client.messages(sid).fetch()
    assert caught.value.status == 500
    assert "teleported" in server.self_errors[0][2]
    assert server.violations == []  # the server's bug, not the client's

    problems = server.spec.check_response(
        "/2010-04-01/Accounts/{AccountSid}/Queues.json", "post", 201, {"sid": "QU" + "0" * 32, "colour": "red"})
    assert "undocumented property colour" in problems and "missing property friendly_name" in problems


def test_count_reset_and_update_delete_message(server, client):
    message = client.messages.create(to=PATIENT, from_=PRACTICE, body="secret")
    assert client.messages(message.sid).update(body="").body == ""
    assert client.messages(message.sid).delete() is True
    assert server.count("*", r"/Messages/SM") == 2 and server.count("POST", r"/Messages") == 2
    server.reset()
    assert server.requests == [] and server.messages == {} and server.count("*", ".") == 0


def test_concurrent_requests_are_all_validated(server, client):
    def send(n):
        for i in range(5):
            client.messages.create(to=PATIENT, from_=PRACTICE, body=f"{n}-{i}")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.messages) == 30 and len(server.requests) == 30
    assert all(r.validated and r.status == 201 for r in server.requests)
    server.assert_clean()


def test_spec_loads_once_and_stop_is_fast():
    spec = load_spec()
    started = time.perf_counter()
    second = TwilioContractServer(SID, TOKEN)
    assert time.perf_counter() - started < 0.1
    assert second.spec is spec and load_spec(SPEC_PATH) is spec

    second.start()
    c = second.client()
    c.messages.create(to=PATIENT, from_=PRACTICE, body="hi")  # leaves a keep-alive connection open
    started = time.perf_counter()
    second.stop()
    assert time.perf_counter() - started < 0.5
    with pytest.raises(requests.exceptions.ConnectionError):
        c.messages.create(to=PATIENT, from_=PRACTICE, body="after stop")


def test_answers_match_twilio_formats(server, client):
    message = client.messages.create(to=PATIENT, from_=PRACTICE, body="hi")
    raw = httpx.get(url(server, f"Messages/{message.sid}.json"), auth=(SID, TOKEN)).json()
    assert raw["date_created"].endswith(" +0000") and parsedate_to_datetime(raw["date_created"])
    assert raw["subresource_uris"]["media"].endswith(f"/Messages/{message.sid}/Media.json")
    page = httpx.get(url(server, "Messages.json"), params={"To": PATIENT, "PageSize": 20}, auth=(SID, TOKEN)).json()
    assert page["next_page_uri"] is None and page["previous_page_uri"] is None
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 20, 0, 0)
    assert page["first_page_uri"].startswith(f"/2010-04-01/Accounts/{SID}/Messages.json?To=%2B15555550101")


def test_vendored_spec_is_valid_openapi():
    from openapi_spec_validator import validate

    validate(load_spec().raw)
