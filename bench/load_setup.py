"""The hub-side preparation of a load run (bench/load.py), run in its own
process on the cluster's environment so the load generator itself never
loads Django.

Seeds the demo practice when it is missing, keeps its departments open
around the clock (a load run measures the daytime path whatever the hour:
menus, queues and no after-hours texts), creates the run's agents (staff
of the practice, each with a REST API token and a signed-in console
session) and prints, as one JSON object on stdout, what the generator
needs: the widget key, the practice's number, the departments and the
agents with their credentials.

    python bench/load_setup.py --agents 50 --departments-per-agent 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from hub.demo import seed  # noqa: E402
from hub.models import AgentProfile, ApiToken, BusinessHours, Department, Holiday, PhoneNumber, Practice  # noqa: E402

USERNAME = "load-agent-{:03d}"


def open_around_the_clock(practice: Practice) -> None:
    """No opening hours is always open (docs/routing.md)."""
    BusinessHours.objects.filter(department__practice=practice).delete()
    Holiday.objects.filter(practice=practice).delete()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def agent(practice: Practice, index: int, departments: list[Department]) -> dict:
    """One of the run's agents, created on first use, with a fresh token and
    session each run."""
    User = get_user_model()
    username = USERNAME.format(index)
    user, _ = User.objects.get_or_create(username=username,
                                         defaults={"first_name": "Load", "last_name": f"Agent {index}"})
    profile, _ = AgentProfile.objects.get_or_create(user=user, defaults={"practice": practice, "role": "agent"})
    profile.departments.set(departments)
    _, token = ApiToken.issue(user, name="load run")
    return {"id": user.pk, "username": username, "departments": [d.pk for d in departments],
            "cookie": session_cookie(user), "token": token}


def departments_for(index: int, departments: list[Department], per_agent: int) -> list[Department]:
    """Round robin, so every department is followed by about as many agents."""
    return [departments[(index + k) % len(departments)] for k in range(min(per_agent, len(departments)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--departments-per-agent", type=int, default=1)
    parser.add_argument("--manual-assignment", action="store_true",
                        help="every department assigns manually (no automatic offers)")
    args = parser.parse_args()

    practice = seed.seed()
    open_around_the_clock(practice)
    if args.manual_assignment:
        Department.objects.filter(practice=practice).update(assignment="manual")
    departments = list(Department.objects.filter(practice=practice).order_by("position", "pk"))
    agents = [agent(practice, i, departments_for(i, departments, args.departments_per_agent))
              for i in range(args.agents)]
    number = PhoneNumber.objects.filter(practice=practice).order_by("pk").values_list("number", flat=True).first()
    out = {
        "widget_key": practice.widget_key,
        "practice_number": number,
        "public_base_url": settings.PUBLIC_BASE_URL,
        "departments": {str(d.pk): d.slug for d in departments},
        "topics": {d.slug: list(d.topics.values_list("slug", flat=True)) for d in departments},
        "agents": agents,
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
