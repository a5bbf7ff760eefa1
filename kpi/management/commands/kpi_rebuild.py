"""Recompute the KPI facts from the timeline: after changing business
hours, restoring a backup, or to check that nothing drifted."""

import time

from django.core.management.base import BaseCommand, CommandError

from hub.models import Practice
from kpi import rollup


class Command(BaseCommand):
    help = "Recompute every KPI fact from the timeline (one practice, or all)."

    def add_arguments(self, parser):
        parser.add_argument("--practice", help="The practice's slug (default: every practice).")

    def handle(self, *args, practice=None, **options):
        practice_id = None
        if practice:
            practice_id = Practice.objects.filter(slug=practice).values_list("pk", flat=True).first()
            if practice_id is None:
                raise CommandError(f"No practice with slug {practice!r}.")
        started = time.monotonic()
        patients = rollup.rebuild(practice_id)
        self.stdout.write(f"Recomputed the KPI facts of {patients} patients in {time.monotonic() - started:.1f} s.")
