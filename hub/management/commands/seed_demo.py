from django.core.management.base import BaseCommand

from hub.demo import seed, staff


class Command(BaseCommand):
    help = "Create the demo practice, its staff and a few patients (does nothing if it exists)."

    def handle(self, **options):
        practice = seed.seed()
        self.stdout.write(f"Demo practice: {practice.name}")
        for username, password, role in staff.logins():
            self.stdout.write(f"  {role:<16} {username:<8} {password}")
