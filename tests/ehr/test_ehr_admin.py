"""Connecting a practice's EHR in the admin is audited, before and after."""

import pytest
from django.contrib.auth import get_user_model

from hub.ehr.models import EhrConnection
from hub.models import AuditEntry

pytestmark = pytest.mark.django_db


def _form(world, **changes):
    data = {"practice": world.practice.pk, "label": "Epic", "base_url": "https://fhir.example.org/r4",
            "auth": "smart_backend", "client_id": "hub", "scope": "system/Patient.read", "token_url": "",
            "key_id": "", "secret_env": "EHR_KEY", "timeout_seconds": "5", "enabled": "on"}
    return {**data, **changes}


def test_connection_changes_are_audited(world, client):
    root = get_user_model().objects.create_superuser("root", password="root-password-1")
    client.force_login(root)
    assert client.post("/admin/ehr/ehrconnection/add/", _form(world)).status_code == 302
    connection = EhrConnection.objects.get(practice=world.practice)
    created = AuditEntry.objects.get(action="ehr.connection_changed")
    assert created.detail["before"] is None and created.detail["after"]["base_url"] == "https://fhir.example.org/r4"
    response = client.post(f"/admin/ehr/ehrconnection/{connection.pk}/change/",
                           _form(world, base_url="https://fhir2.example.org/r4"))
    assert response.status_code == 302
    changed = AuditEntry.objects.filter(action="ehr.connection_changed").order_by("pk").last()
    assert changed.detail["before"]["base_url"] == "https://fhir.example.org/r4"
    assert changed.detail["after"]["base_url"] == "https://fhir2.example.org/r4"
    assert changed.practice_id == world.practice.pk and changed.via == "admin"
