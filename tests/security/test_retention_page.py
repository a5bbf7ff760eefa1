"""/console/retention/: practice admins see and change the retention policy,
place and release legal holds, and read the purge reports; every change is
audited; everyone else is refused."""

import pytest
from django.test import Client

from hub.models import AgentProfile, AuditEntry
from hub.retention.models import LegalHold, PurgeRun, RetentionPolicy
from hub.retention.purge import purge_practice
from tests.conftest import make_user
from tests.factories import inbound

PAGE = "/console/retention/"
POLICY = "/console/retention/policy"
HOLDS = "/console/retention/holds"


@pytest.fixture
def admin(world):
    user = make_user(world.practice, "ada", AgentProfile.Role.ADMIN, first="Ada", last="Admin")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def audit_rows(action):
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


# --- who may see it -----------------------------------------------------------------


def test_the_page_needs_a_login(db, client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    response = client.post(POLICY, {"message_days": "30"})
    assert response.status_code == 302 and response["Location"].startswith("/console/login/")


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_agents_and_supervisors_are_refused(world, who):
    client = login(getattr(world, who))
    assert client.get(PAGE).status_code == 403
    conversation = inbound(world.practice).conversation
    assert client.post(POLICY, {"message_days": "30"}).status_code == 403
    assert client.post(HOLDS, {"target": "conversation", "object_id": conversation.pk,
                               "reason": "x"}).status_code == 403
    hold = LegalHold.objects.create(practice=world.practice, conversation=conversation, reason="Kept",
                                    placed_by=world.sam, placed_at=conversation.created_at)
    assert client.post(f"{HOLDS}/{hold.pk}/release").status_code == 403
    assert not RetentionPolicy.objects.exists() and LegalHold.objects.get().released_at is None
    assert b"Retention" not in client.get("/console/").content


def test_a_user_without_a_practice_is_refused(db):
    from django.contrib.auth import get_user_model

    client = login(get_user_model().objects.create_user("drifter", password="drifter-password-1"))
    response = client.get(PAGE)
    assert response.status_code == 403 and b"not a staff member" in response.content


def test_the_console_links_the_page_for_admins(admin):
    assert b'href="/console/retention/"' in admin.get("/console/").content


# --- the policy --------------------------------------------------------------------


def test_the_admin_sees_the_default_policy(admin):
    response = admin.get(PAGE)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Retention policy" in text and text.count("2190 days") == 4
    assert 'name="message_days"' in text and 'value="2190"' in text
    assert "No purge has run yet" in text and "No active legal holds" in text


def test_the_page_has_no_inline_script_or_style(admin):
    text = admin.get(PAGE).content.decode()
    assert "<script" not in text and "style=" not in text and "<style" not in text
    assert text.count("csrfmiddlewaretoken") >= 2


def test_the_admin_changes_the_policy_and_it_is_audited(world, admin):
    response = admin.post(POLICY, {"message_days": "365", "attachment_days": "730", "recording_days": "90",
                                   "transcript_days": ""})
    assert response.status_code == 302 and response["Location"] == PAGE
    policy = RetentionPolicy.objects.get(practice=world.practice)
    assert policy.days() == {"messages": 365, "attachments": 730, "recordings": 90, "transcripts": None}
    assert policy.updated_by == admin.user
    [row] = audit_rows("retention.policy_changed")
    assert (row.user_id, row.practice_id, row.via, row.object_type) == (admin.user.pk, world.practice.pk, "console",
                                                                       "retentionpolicy")
    assert row.detail["before"]["message_days"] == 2190 and row.detail["after"]["transcript_days"] is None
    page = admin.get(PAGE).content.decode()
    assert "Retention policy saved." in page and "Kept forever" in page and "365 days" in page
    # The same values again: nothing changes, nothing is audited.
    admin.post(POLICY, {"message_days": "365", "attachment_days": "730", "recording_days": "90",
                        "transcript_days": ""})
    assert len(audit_rows("retention.policy_changed")) == 1


@pytest.mark.parametrize("value", ["29", "36501", "12.5", "abc", "-40", "1e3", "99999999999999999999999"])
def test_bad_days_are_refused_with_a_clear_message(world, admin, value):
    response = admin.post(POLICY, {"message_days": value, "attachment_days": "365", "recording_days": "365",
                                   "transcript_days": "365"})
    assert response.status_code == 400
    assert "Enter a whole number of days from 30 to 36500, or leave it empty to keep forever." in \
        response.content.decode()
    assert not RetentionPolicy.objects.exists() and not audit_rows("retention.policy_changed")


def test_a_get_on_the_policy_form_is_refused(admin):
    assert admin.get(POLICY).status_code == 405


# --- legal holds -------------------------------------------------------------------


def test_the_admin_places_and_releases_a_hold_on_a_conversation(world, admin):
    conversation = inbound(world.practice).conversation
    response = admin.post(HOLDS, {"target": "conversation", "object_id": str(conversation.pk),
                                  "reason": "Complaint under review"})
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.conversation_id, hold.patient_id, hold.reason, hold.placed_by) == (
        conversation.pk, None, "Complaint under review", admin.user)
    [placed] = audit_rows("legal_hold.placed")
    assert placed.detail == {"conversation": conversation.pk} and placed.object_id == str(hold.pk)
    assert placed.patient_id == conversation.patient_id
    assert "Complaint under review" not in str(placed.detail)
    page = admin.get(PAGE).content.decode()
    assert f"Legal hold #{hold.pk} placed on conversation #{conversation.pk}" in page
    assert "Complaint under review" in page and f"{HOLDS}/{hold.pk}/release" in page

    response = admin.post(f"{HOLDS}/{hold.pk}/release")
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.released_by == admin.user and hold.released_at is not None
    [released] = audit_rows("legal_hold.released")
    assert released.detail == {"conversation": conversation.pk}
    page = admin.get(PAGE).content.decode()
    assert "Recently released" in page and "No active legal holds" in page
    # Releasing again changes nothing.
    assert admin.post(f"{HOLDS}/{hold.pk}/release").status_code == 302
    assert len(audit_rows("legal_hold.released")) == 1


def test_the_admin_places_a_hold_on_a_patient(world, admin):
    patient = inbound(world.practice).conversation.patient
    assert admin.post(HOLDS, {"target": "patient", "object_id": patient.pk, "reason": "Records request"}
                      ).status_code == 302
    assert LegalHold.objects.get().patient_id == patient.pk
    assert audit_rows("legal_hold.placed")[0].detail == {"patient": patient.pk}
    # The same target twice is refused.
    response = admin.post(HOLDS, {"target": "patient", "object_id": patient.pk, "reason": "Again"})
    assert response.status_code == 400 and "already under an active legal hold" in response.content.decode()
    assert LegalHold.objects.count() == 1


def test_another_practices_conversation_or_patient_is_refused(world, other_world, admin):
    theirs = inbound(other_world.practice).conversation
    for target, object_id in (("conversation", theirs.pk), ("patient", theirs.patient_id), ("conversation", 987654)):
        response = admin.post(HOLDS, {"target": target, "object_id": object_id, "reason": "Fishing"})
        assert response.status_code == 400
        assert f"There is no {target} #{object_id} in your practice." in response.content.decode()
    assert not LegalHold.objects.exists() and not audit_rows("legal_hold.placed")


@pytest.mark.parametrize("form", [
    {"target": "conversation", "object_id": "1", "reason": ""},
    {"target": "conversation", "object_id": "1", "reason": "   "},
    {"target": "everything", "object_id": "1", "reason": "x"},
    {"target": "conversation", "object_id": "one", "reason": "x"},
    {"target": "conversation", "object_id": "0", "reason": "x"},
    {"target": "conversation", "object_id": "99999999999999999999999", "reason": "x"},
    {},
])
def test_bad_hold_forms_are_refused(world, admin, form):
    response = admin.post(HOLDS, form)
    assert response.status_code == 400
    assert not LegalHold.objects.exists()


def test_another_practices_hold_cannot_be_released(world, other_world, admin):
    theirs = inbound(other_world.practice).conversation
    hold = LegalHold.objects.create(practice=other_world.practice, conversation=theirs, reason="Theirs",
                                    placed_by=other_world.sam, placed_at=theirs.created_at)
    assert admin.post(f"{HOLDS}/{hold.pk}/release").status_code == 404
    assert admin.post(f"{HOLDS}/999999/release").status_code == 404
    hold.refresh_from_db()
    assert hold.released_at is None
    assert "Theirs" not in admin.get(PAGE).content.decode()


# --- the reports -------------------------------------------------------------------


def test_recent_purges_are_listed_with_their_counts(world, admin, frozen_clock):
    from datetime import timedelta

    inbound(world.practice, body="An old question")
    RetentionPolicy.objects.create(practice=world.practice, message_days=30)
    run = purge_practice(world.practice, frozen_clock.now + timedelta(days=31))
    assert run.purged["messages"] >= 1
    page = admin.get(PAGE).content.decode()
    assert f"#{run.pk}" in page and "Finished" in page
    assert f'<td class="num">{run.purged["messages"]}</td>' in page
    assert PurgeRun.objects.count() == 1


# --- the Django admin ----------------------------------------------------------------


def test_the_django_admin_audits_changes_and_keeps_reports_read_only(world, other_world):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", password="root-password-1")
    client = login(root)
    assert client.get("/admin/retention/purgerun/").status_code == 200
    assert client.get("/admin/retention/purgerun/add/").status_code == 403
    days = {"attachment_days": "2190", "recording_days": "2190", "transcript_days": "2190"}
    response = client.post("/admin/retention/retentionpolicy/add/",
                           {"practice": world.practice.pk, "message_days": "10", **days})
    assert response.status_code == 200 and not RetentionPolicy.objects.exists()
    response = client.post("/admin/retention/retentionpolicy/add/",
                           {"practice": world.practice.pk, "message_days": "400", **days})
    assert response.status_code == 302
    [row] = audit_rows("retention.policy_changed")
    assert row.via == "admin" and row.detail["after"]["message_days"] == 400

    theirs = inbound(other_world.practice).conversation
    response = client.post("/admin/retention/legalhold/add/",
                           {"practice": world.practice.pk, "conversation": theirs.pk, "reason": "Wrong practice"})
    assert response.status_code == 200 and not LegalHold.objects.exists()
    ours = inbound(world.practice).conversation
    response = client.post("/admin/retention/legalhold/add/",
                           {"practice": world.practice.pk, "conversation": ours.pk, "reason": "Records request"})
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert hold.placed_by == root and audit_rows("legal_hold.placed")[0].via == "admin"
