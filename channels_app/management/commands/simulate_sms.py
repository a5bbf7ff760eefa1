from django.core.management.base import BaseCommand, CommandError

from channels_app.twilio_common import simulate
from hub.lib import phone
from hub.models import PhoneNumber


class Command(BaseCommand):
    help = ("Send a running hub a text as if from a patient: a correctly signed Twilio incoming-message "
            "webhook. Try the SMS path without a Twilio account.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_", required=True, help="the patient's number, e.g. +15551234567")
        parser.add_argument("--body", default="", help="the message text")
        parser.add_argument("--to", help="the practice number texted (default: the first one in the database)")
        parser.add_argument("--media", action="append", default=[], metavar="URL[;TYPE]",
                            help="an MMS attachment URL (repeat for several), optionally ;content/type")
        parser.add_argument("--url", default=None,
                            help="the hub's public URL (default: the hub make run started, else PUBLIC_BASE_URL)")
        parser.add_argument("--sid", default="", help="a MessageSid to reuse (to try a Twilio retry)")

    def handle(self, from_, body, to, media, url, sid, **options):
        url = url or simulate.running_hub_url()
        try:
            from_ = phone.normalize(from_)
        except phone.InvalidPhoneNumber:
            raise CommandError("--from is not a phone number") from None
        if not to:
            to = PhoneNumber.objects.filter(sms=True).values_list("number", flat=True).first()
            if not to:
                raise CommandError("No practice number in the database; pass --to.")
        attachments = []
        for item in media:
            link, _, ctype = item.partition(";")
            attachments.append((link, ctype or "image/jpeg"))
        params = simulate.incoming_sms(from_=from_, to=to, body=body, media=attachments, sid=sid)
        response = simulate.post(url, "/webhooks/twilio/sms", params)
        if response.status_code >= 400:
            raise CommandError(f"The hub answered {response.status_code}: {response.text[:200]}")
        self.stdout.write(f"Delivered {params['MessageSid']} to {url}: {response.status_code}")
