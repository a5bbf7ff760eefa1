"""Walk a phone call through the hub's real voice webhooks, signed, playing
Twilio's part: the menu, holding, an agent taking it from the console, a
voicemail, or hanging up."""

import secrets
import time
import xml.etree.ElementTree as ET

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_app.models import SandboxCallCommand
from channels_app.twilio_common import simulate
from hub.lib import phone
from hub.models import PhoneNumber

SAMPLE_RECORDING = "/static/voice/sample-voicemail"


class Command(BaseCommand):
    help = ("Simulate a patient's phone call against a running hub (sandbox voice): "
            "e.g. --press 2 --hangup-after 40, or --press 1 --voicemail 'I need a refill'.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_", required=True, help="the caller's number")
        parser.add_argument("--to", help="the practice number called (default: the first one)")
        choice = parser.add_mutually_exclusive_group()
        choice.add_argument("--press", help="the key pressed in the menu")
        choice.add_argument("--say", help="what the caller says in the menu")
        parser.add_argument("--hangup-after", type=float, default=60.0,
                            help="seconds on hold before hanging up if nobody answers (default 60)")
        parser.add_argument("--talk", type=float, default=15.0, help="seconds of talking once answered")
        parser.add_argument("--voicemail", help="leave a voicemail with this transcript (after --hold seconds)")
        parser.add_argument("--callback", action="store_true", help="ask for a call-back (after --hold seconds)")
        parser.add_argument("--hold", type=float, default=3.0, help="seconds on hold before --voicemail/--callback")
        parser.add_argument("--url", default=None, help="the hub's public URL (default: the running hub)")

    def handle(self, from_, to, press, say, hangup_after, talk, voicemail, callback, hold, url, **options):
        self.base = (url or simulate.running_hub_url()).rstrip("/")
        try:
            self.caller = phone.normalize(from_)
        except phone.InvalidPhoneNumber:
            raise CommandError("--from is not a phone number") from None
        self.to = to or PhoneNumber.objects.filter(voice=True).values_list("number", flat=True).first()
        if not self.to:
            raise CommandError("No practice number in the database; pass --to.")
        self.sid = simulate.new_sid("CA")
        self.queue_sid = simulate.new_sid("QU")
        self.started = time.monotonic()
        self.log(f"Calling {self.to} from {self.caller} ({self.sid})")
        answer = self.post(f"{self.base}/webhooks/twilio/voice", {"CallStatus": "ringing"})
        if answer.find("Record") is not None:
            self.log("The practice is closed: the call goes to voicemail.")
            return self.leave_voicemail(voicemail or "Hello, please call me back.")
        answer = self.post(self.action(answer, "Gather"), {"Digits": press or "", "SpeechResult": say or ""})
        while answer.find("Gather") is not None:  # asked again
            self.log("The menu repeats (no valid choice).")
            answer = self.post(self.action(answer, "Gather"), {})
        if answer.find("Record") is not None:
            return self.leave_voicemail(voicemail or "Hello, please call me back.")
        enqueue = answer.find("Enqueue")
        if enqueue is None:
            return self.finish("completed")
        self.log(f"On hold in queue {enqueue.text}")
        return self.hold_in_queue(enqueue, hangup_after, talk, voicemail, callback, hold)

    # --- Twilio's side of a holding call -------------------------------------

    def hold_in_queue(self, enqueue, hangup_after, talk, voicemail, callback, hold):
        wait_url, result_url = enqueue.get("waitUrl"), enqueue.get("action")
        on_hold = time.monotonic()
        last_wait = 0.0
        while True:
            held = int(time.monotonic() - on_hold)
            command = SandboxCallCommand.objects.filter(call_sid=self.sid, done=False).order_by("pk").first()
            if command is not None:
                SandboxCallCommand.objects.filter(pk=command.pk).update(done=True)
                if command.action == "dequeue":
                    self.post(result_url, {"QueueResult": "redirected", "QueueSid": self.queue_sid, "QueueTime": held})
                    return self.connect_agent(command.url, talk, held)
                if command.action == "hangup":
                    return self.finish("completed")
            if (voicemail or callback) and held >= hold:
                self.post(f"{self.base}/webhooks/twilio/voice/wait-choice", {"Digits": "1" if voicemail else "2"})
                answer = self.post(result_url, {"QueueResult": "leave", "QueueSid": self.queue_sid, "QueueTime": held})
                if voicemail:
                    return self.leave_voicemail(voicemail, answer)
                self.log("Asked for a call-back.")
                return self.finish("completed")
            if held >= hangup_after:
                self.log(f"Hung up after {held} s on hold.")
                self.post(result_url, {"QueueResult": "hangup", "QueueSid": self.queue_sid, "QueueTime": held})
                return self.finish("completed")
            if time.monotonic() - last_wait >= 10:
                last_wait = time.monotonic()
                self.post(wait_url, {"QueueSid": self.queue_sid, "QueuePosition": 1, "QueueTime": held,
                                     "AvgQueueTime": held, "CurrentQueueSize": 1, "MaxQueueSize": 100})
            time.sleep(0.25)

    def connect_agent(self, connect_url, talk, held):
        answer = self.post(connect_url, {})
        dial = answer.find("Dial")
        if dial is None:
            self.log("The hub could not connect an agent.")
            return self.finish("completed")
        endpoint = dial[0]
        self.log(f"Ringing {endpoint.text}; answered.")
        self.post(endpoint.get("url"), {"CallSid": simulate.new_sid("CA"), "ParentCallSid": self.sid}, own_sid=False)
        time.sleep(talk)
        self.log(f"Talked for {int(talk)} s.")
        self.post(dial.get("action"), {"DialCallStatus": "completed", "DialCallDuration": int(talk)})
        return self.finish("completed")

    def leave_voicemail(self, transcript, answer=None):
        recording_sid = simulate.new_sid("RE")
        record = answer.find("Record") if answer is not None else None
        action = record.get("action") if record is not None else f"{self.base}/webhooks/twilio/voice/recording"
        params = {"RecordingSid": recording_sid, "RecordingUrl": f"{self.base}{SAMPLE_RECORDING}",
                  "RecordingDuration": 12, "Digits": "#"}
        self.post(action, params)
        self.post(f"{self.base}/webhooks/twilio/voice/transcription", {
            "RecordingSid": recording_sid, "TranscriptionSid": simulate.new_sid("TR"), "TranscriptionText": transcript,
            "TranscriptionStatus": "completed", "RecordingUrl": f"{self.base}{SAMPLE_RECORDING}"})
        self.log("Left a voicemail.")
        return self.finish("completed")

    # --- plumbing -------------------------------------------------------------

    def finish(self, status):
        duration = int(time.monotonic() - self.started)
        self.post(f"{self.base}/webhooks/twilio/voice/status", {"CallStatus": status, "CallDuration": duration})
        self.log(f"Call {status} after {duration} s.")

    def post(self, url, params, own_sid=True):
        full = {"AccountSid": simulate.account_sid(), "From": self.caller, "To": self.to, "Direction": "inbound",
                "ApiVersion": "2010-04-01", "CallStatus": "in-progress", **({"CallSid": self.sid} if own_sid else {}),
                **{k: str(v) for k, v in params.items()}}
        response = simulate.post_url(url, full)
        if response.status_code >= 400:
            raise CommandError(f"The hub answered {response.status_code} at {url}: {response.text[:200]}")
        if response.status_code == 204 or not response.content:
            return ET.fromstring("<Response/>")
        return ET.fromstring(response.content)

    def action(self, answer, tag):
        element = answer.find(tag)
        redirect = answer.find("Redirect")
        if element is not None and element.get("action"):
            return element.get("action")
        if redirect is not None:
            return redirect.text
        raise CommandError(f"Expected a <{tag}> in the hub's answer")

    def log(self, text):
        self.stdout.write(f"[{time.monotonic() - self.started:5.1f}s] {text}")


assert secrets and settings
