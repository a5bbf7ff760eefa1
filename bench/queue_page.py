"""Server time of the console page with thousands of conversations waiting.

Builds a fresh database with the demo practice and N waiting conversations
(default 5,000) spread over its departments and channels, then renders
/console/ for a supervisor (who follows every department, so every
conversation is on the page) and for an agent, in-process (Django's test
client: the time is the server's alone), and prints p50/p95/max.

    python bench/queue_page.py [--conversations 5000] [--requests 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import bench_environment, seeded_database, setup_django

CHANNELS = ["sms", "web", "voice", "api"]


def populate(n: int) -> None:
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from hub.models import ContactPoint, Conversation, Department, Patient, Practice, Topic

    practice = Practice.objects.get(slug="riverside")
    departments = list(Department.objects.in_practice(practice))
    topics = {t.department_id: t.pk for t in Topic.objects.in_practice(practice)}
    now = timezone.now()
    with transaction.atomic():
        patients = Patient.objects.bulk_create(
            [Patient(practice=practice, first_name=f"Patient{i}", last_name="Bench") for i in range(n)],
            batch_size=1000)
        ContactPoint.objects.bulk_create(
            [ContactPoint(practice=practice, patient=p, kind="phone", address=f"+1555{7000000 + i}")
             for i, p in enumerate(patients)], batch_size=1000)
        rows = []
        for i, patient in enumerate(patients):
            dept = departments[i % len(departments)]
            waited = now - timedelta(seconds=(i * 7) % 5400)
            rows.append(Conversation(
                practice=practice, patient=patient, department=dept, topic_id=topics.get(dept.pk),
                status="queued", channel=CHANNELS[i % 4], priority=2 if i % 97 == 0 else 0, urgent=i % 97 == 0,
                created_at=waited, waiting_since=waited, last_activity_at=waited, last_event_seq=1))
        Conversation.objects.bulk_create(rows, batch_size=1000)


def measure(username: str, requests: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    samples = []
    size = 0
    for i in range(requests + 3):
        started = time.perf_counter()
        response = client.get("/console/")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200
        size = len(response.content)
        if i >= 3:
            samples.append(elapsed)
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[int(len(samples) * 0.95) - 1], "max": samples[-1],
            "kb": size / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    env = bench_environment()
    seeded_database(env)
    setup_django(env)
    print(f"database: {env.get('DATABASE_URL', 'SQLite')}")
    started = time.perf_counter()
    populate(args.conversations)
    print(f"{args.conversations} waiting conversations created in {time.perf_counter() - started:.1f} s\n")
    print(f"{'viewer':<34}{'on page':>9}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'page KB':>10}")
    from hub.lib import access, queue
    from django.contrib.auth import get_user_model

    for username, label in (("sam", "supervisor (every department)"), ("alice", "agent (two departments)")):
        viewer = access.viewer_for(get_user_model().objects.get(username=username))
        viewer.streams  # noqa: B018
        shown = len(queue.open_conversations(viewer))
        r = measure(username, args.requests)
        print(f"{label:<34}{shown:>9}{r['p50']:>10.1f}{r['p95']:>10.1f}{r['max']:>10.1f}{r['kb']:>10.0f}")
    print("\ntarget: under 300 ms of server time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
