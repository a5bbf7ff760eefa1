"""`manage.py seed_articles PRACTICE_SLUG`: add the starter articles
(hub.knowledge.seed) a practice does not have yet."""

from django.core.management.base import BaseCommand, CommandError

from hub.knowledge.seed import seed_articles
from hub.models import Practice


class Command(BaseCommand):
    help = "Add the knowledge base's starter articles to a practice (those it does not have yet)."

    def add_arguments(self, parser):
        parser.add_argument("practice", help="The practice's slug.")

    def handle(self, *args, practice: str, **options):
        found = Practice.objects.filter(slug=practice).first()
        if found is None:
            raise CommandError(f"No practice with the slug {practice!r}.")
        added = seed_articles(found)
        self.stdout.write(f"Added {len(added)} article(s) to {found.name}.")
