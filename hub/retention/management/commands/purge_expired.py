"""Run the retention purge now (what the daily task does), or see what it
would remove with --dry-run."""

from django.core.management.base import BaseCommand, CommandError

from hub.lib import clock
from hub.models import Practice
from hub.retention.purge import Result, plan, purge_practice


class Command(BaseCommand):
    help = "Purge content older than each practice's retention policy (one practice, or all)."

    def add_arguments(self, parser):
        parser.add_argument("--practice", metavar="SLUG", help="The practice's slug (default: every practice).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would be purged and what legal holds keep; change nothing.")

    def handle(self, *args, practice=None, dry_run=False, **options):
        practices = Practice.objects.order_by("pk")
        if practice:
            practices = practices.filter(slug=practice)
            if not practices.exists():
                raise CommandError(f"No practice with slug {practice!r}.")
        now = clock.now()
        failed = []
        for p in practices:
            if dry_run:
                self.stdout.write(plan(p, now).summary())
                continue
            try:
                run = purge_practice(p, now, trigger="command")
            except Exception as exc:
                failed.append(p.slug)
                self.stderr.write(f"{p.slug}: the purge failed ({type(exc).__name__}); see its purge run.")
                continue
            self.stdout.write(Result.of_run(run, p.slug).summary() + f" [run {run.pk}]")
        if failed:
            raise CommandError(f"The purge failed for: {', '.join(failed)}.")
