"""The practice page: a shell for its ES modules, under the strict CSP."""

import json
import re

from django.test import Client


def test_the_page_carries_what_its_modules_need(world):
    client = Client()
    client.force_login(world.sam)
    response = client.get("/console/training/")
    assert response.status_code == 200
    html = response.content.decode()
    boot = json.loads(re.search(r'<script id="training-boot" type="application/json">(.*?)</script>', html, re.S)[1])
    assert boot["may_supervise"] and [d["slug"] for d in boot["departments"]] == ["scheduling", "billing", "intake",
                                                                               "nurse"]
    assert {p["name"] for p in boot["team"]} == {"Alice Adams", "Bob Brown", "Sam Stone"}
    assert 'src="/static/console/training.js"' in html
    # No inline script or style: only the JSON data block and the module.
    assert re.findall(r"<script(?![^>]*(?:type=\"application/json\"|src=))", html) == []
    assert " style=" not in html and " onclick=" not in html


def test_agents_get_no_team_list_and_strangers_sign_in(world):
    client = Client()
    client.force_login(world.alice)
    html = client.get("/console/training/").content.decode()
    assert '"team": []' in html and "Assignments" not in html
    response = Client().get("/console/training/")
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_the_admin_lists_runs_read_only_and_assignments(world, player):
    from django.contrib.auth import get_user_model

    p = player(world.alice)
    p.start("chest-pain-red-flag")
    p.escalate("nurse")
    root = get_user_model().objects.create_superuser("root", password="root-password-1")
    client = Client()
    client.force_login(root)
    runs = client.get("/admin/training/practicerun/")
    assert runs.status_code == 200 and "chest-pain-red-flag" in runs.content.decode()
    assert client.get("/admin/training/practicerun/add/").status_code == 403
    assert client.get("/admin/training/assignment/add/").status_code == 200
