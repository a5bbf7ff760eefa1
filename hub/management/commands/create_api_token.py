from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hub.models import ApiToken


class Command(BaseCommand):
    help = "Create a REST API token for USERNAME and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label for the token, e.g. the integration's name.")

    def handle(self, username, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not hasattr(user, "agent"):
            raise CommandError(f"{username!r} is not a staff member of any practice; add an agent profile first.")
        _, raw = ApiToken.issue(user, name=name)
        self.stdout.write(raw)
