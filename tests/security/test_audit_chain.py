"""The audit trail as a hash chain: rows are only appended, one chain per
practice, `verify_audit` finds any change made behind the hub's back, and
every read and change of patient data leaves exactly one row."""

from __future__ import annotations

import io
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client

from hub.actions import consent
from hub.lib import audit, audit_chain
from hub.models import Attachment, AuditChainHead, AuditEntry, ContactPoint, Event
from hub.models.audit import AppendOnly
from tests.factories import inbound

POSTGRES = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL only")
SECRET = "Jane Roe 1980-02-03"  # stands in for patient data in a detail


def write(practice_id, n=1, *, user_id=None, action="conversation.viewed", **detail):
    return [audit.record(user_id=user_id, practice_id=practice_id, action=action, obj=("conversation", i + 1),
                         via="api", ip="127.0.0.1", detail={"n": i, **detail}) for i in range(n)]


def verify(*args) -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as failed:
        return False, out.getvalue() + str(failed)
    return True, out.getvalue()


def tamper(sql: str, params=()) -> None:
    """Change the audit tables behind the hub's back. On PostgreSQL the
    append-only triggers must be switched off first, which takes the table
    owner or a database superuser; then only verify_audit can tell."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred check
            cursor.execute("ALTER TABLE hub_auditentry DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE hub_auditchainhead DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE hub_auditentry ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE hub_auditchainhead ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def broken_line(output: str, chain: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("BROKEN") and f" {chain}:" in line]
    assert len(lines) == 1, output
    return lines[0]


# --- the chain --------------------------------------------------------------------------------


def test_rows_are_numbered_and_linked_per_practice(world, other_world):
    riverside = write(world.practice.pk, 3)
    lakeside = write(other_world.practice.pk, 2)
    system = write(None, 1, action="session.sign_in_failed")
    assert [r.sequence for r in riverside] == [1, 2, 3]
    assert [r.sequence for r in lakeside] == [1, 2]
    assert [r.sequence for r in system] == [1]
    assert riverside[0].prev_hash == audit_chain.GENESIS_HASH
    assert [r.prev_hash for r in riverside[1:]] == [r.hash for r in riverside[:-1]]
    for row in AuditEntry.objects.all():
        assert row.hash == audit_chain.row_hash({f: getattr(row, f) for f in audit_chain.HASHED_COLUMNS})
    head = AuditChainHead.objects.get(pk=world.practice.pk)
    assert (head.sequence, head.hash) == (3, riverside[-1].hash)


def test_the_hash_is_the_documented_canonical_form(world, frozen_clock):
    frozen_clock.set(datetime(2025, 3, 12, 14, 0, 0, 123456, tzinfo=timezone.utc))
    row = audit.record(user_id=world.alice.pk, practice_id=world.practice.pk, action="patient.viewed",
                       obj=("patient", 7), via="api", ip="127.0.0.1", detail={"b": [1, "é"], "a": None},
                       patient_id=7)
    import hashlib
    text = ('{"action":"patient.viewed","created_at":"2025-03-12T14:00:00.123456+00:00",'
            '"detail":{"a":null,"b":[1,"\\u00e9"]},"ip":"127.0.0.1","object_id":"7","object_type":"patient",'
            f'"patient":7,"practice":{world.practice.pk},"prev_hash":"{"0" * 64}","sequence":1,'
            f'"user":{world.alice.pk},"v":1,"via":"api"}}')
    assert row.hash == hashlib.sha256(text.encode()).hexdigest()


def test_values_the_database_rewrites_still_verify(world):
    for ip in ("2001:0DB8:0000:0000:0000:0000:0000:0001", "::ffff:10.0.0.1", "not an address", None):
        audit.record(user_id=None, practice_id=world.practice.pk, action="patient.viewed", obj=("patient", 1),
                     via="api", ip=ip, detail={"when": datetime(2025, 1, 1, tzinfo=timezone.utc), "x": 1.5,
                                               "nested": {"z": 1, "a": [True, None]}, "text": "naïve ☃"})
    assert AuditEntry.objects.filter(ip="2001:db8::1").count() == 1
    assert verify()[0]


def test_writing_a_row_costs_one_locked_read_and_two_writes(world, django_assert_num_queries):
    write(world.practice.pk)
    # Lock the head, insert the row, move the head. On PostgreSQL the two
    # writes wait to go with the transaction's next statement or its COMMIT.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        row = write(world.practice.pk)[0]
    assert AuditEntry.objects.get(pk=row.pk).sequence == row.sequence
    assert verify()[0]


def test_rows_cannot_be_changed_or_deleted_through_the_orm(world):
    row = write(world.practice.pk)[0]
    row.action = "patient.viewed"
    with pytest.raises(AppendOnly):
        row.save()
    with pytest.raises(AppendOnly):
        row.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=row.pk).update(action="x")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=row.pk).delete()
    assert AuditEntry.objects.get(pk=row.pk).action == "conversation.viewed"


@POSTGRES
@pytest.mark.parametrize("sql", [
    "UPDATE hub_auditentry SET action = 'patient.viewed' WHERE id = %s",
    "DELETE FROM hub_auditentry WHERE id = %s",
])
def test_postgres_refuses_direct_changes_to_audit_rows(world, sql):
    row = write(world.practice.pk)[0]
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
    assert AuditEntry.objects.get(pk=row.pk).action == "conversation.viewed"


@POSTGRES
@pytest.mark.parametrize("sql", [
    "UPDATE hub_auditchainhead SET hash = %s WHERE chain = %s",
    "UPDATE hub_auditchainhead SET sequence = sequence - 1 WHERE chain = %s",
    "DELETE FROM hub_auditchainhead WHERE chain = %s",
])
def test_postgres_lets_a_chain_head_only_move_forward(world, sql):
    write(world.practice.pk, 2)
    params = (["f" * 64] if sql.count("%s") == 2 else []) + [world.practice.pk]
    with pytest.raises(DatabaseError, match="audit chain head"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)


# --- verify_audit ----------------------------------------------------------------------------


def test_an_untouched_trail_verifies(world, other_world):
    write(world.practice.pk, 5)
    write(other_world.practice.pk, 2)
    write(None, 1)
    ok, output = verify()
    assert ok, output
    assert "OK      riverside: 5 rows" in output
    assert "OK      lakeside: 2 rows" in output
    assert "OK      (system): 1 rows" in output


def test_a_changed_row_is_found_and_reported_by_id_only(world, other_world):
    rows = write(world.practice.pk, 5, note=SECRET)
    write(other_world.practice.pk, 2)
    tamper("UPDATE hub_auditentry SET user_id = %s WHERE id = %s", [world.bob.pk, rows[2].pk])
    ok, output = verify()
    assert not ok
    line = broken_line(output, "riverside")
    assert f"row id {rows[2].pk}, sequence 3" in line and "does not match its hash" in line
    assert "OK      lakeside" in output  # the other practice's chain is intact
    assert SECRET not in output and "conversation.viewed" not in output


def test_a_changed_detail_is_found(world):
    rows = write(world.practice.pk, 3, note=SECRET)
    tamper("UPDATE hub_auditentry SET detail = %s WHERE id = %s", ['{"n": 1, "note": "nothing"}', rows[1].pk])
    ok, output = verify()
    assert not ok and f"row id {rows[1].pk}, sequence 2" in broken_line(output, "riverside")
    assert SECRET not in output and "nothing" not in output


def test_a_deleted_row_is_found(world):
    rows = write(world.practice.pk, 5)
    tamper("DELETE FROM hub_auditentry WHERE id = %s", [rows[1].pk])
    ok, output = verify()
    line = broken_line(output, "riverside")
    assert not ok and f"row id {rows[2].pk}, sequence 3" in line and "sequence 2: deleted" in line


def test_rows_deleted_from_the_end_are_found(world):
    rows = write(world.practice.pk, 4)
    tamper("DELETE FROM hub_auditentry WHERE id IN (%s, %s)", [rows[2].pk, rows[3].pk])
    ok, output = verify()
    assert not ok and "the head is at sequence 4 but the last row is 2" in broken_line(output, "riverside")


def _forge(world, sequence, prev_hash, *, hash_=None, created_at=None):
    fields = dict(practice_id=world.practice.pk, sequence=sequence, user_id=world.sam.pk, action="patient.viewed",
                  object_type="patient", object_id="1", patient_id=1, ip="10.0.0.1", via="api", detail={},
                  created_at=created_at or datetime(2025, 1, 1, tzinfo=timezone.utc), prev_hash=prev_hash)
    forged_hash = hash_ or audit_chain.row_hash(fields)
    tamper("INSERT INTO hub_auditentry (practice_id, sequence, user_id, action, object_type, object_id, patient_id, "
           "ip, via, detail, created_at, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
           [fields["practice_id"], sequence, fields["user_id"], fields["action"], fields["object_type"],
            fields["object_id"], 1, fields["ip"], "api", "{}", fields["created_at"], prev_hash, forged_hash])
    return AuditEntry.objects.get(practice_id=world.practice.pk, sequence=sequence)


def test_a_row_inserted_in_place_of_a_deleted_one_is_found(world):
    rows = write(world.practice.pk, 4)
    tamper("DELETE FROM hub_auditentry WHERE id = %s", [rows[1].pk])
    forged = _forge(world, 2, rows[0].hash)  # correctly hashed and linked backwards...
    ok, output = verify()
    line = broken_line(output, "riverside")
    # ...but the next row was linked to the original
    assert not ok and f"row id {rows[2].pk}, sequence 3" in line and "does not link" in line
    assert forged.pk != rows[1].pk


def test_a_row_added_past_the_head_is_found(world):
    rows = write(world.practice.pk, 3)
    forged = _forge(world, 4, rows[-1].hash)
    ok, output = verify()
    line = broken_line(output, "riverside")
    assert not ok and f"row id {forged.pk}, sequence 4" in line and "past the head" in line


def test_a_forged_row_with_a_made_up_hash_is_found(world):
    rows = write(world.practice.pk, 2)
    tamper("DELETE FROM hub_auditentry WHERE id = %s", [rows[1].pk])
    forged = _forge(world, 2, rows[0].hash, hash_="a" * 64)
    ok, output = verify()
    assert not ok and f"row id {forged.pk}, sequence 2" in broken_line(output, "riverside")


def test_reordered_rows_are_found(world):
    rows = write(world.practice.pk, 4)
    tamper("UPDATE hub_auditentry SET sequence = -1 WHERE id = %s", [rows[1].pk])
    tamper("UPDATE hub_auditentry SET sequence = 2 WHERE id = %s", [rows[2].pk])
    tamper("UPDATE hub_auditentry SET sequence = 3 WHERE id = %s", [rows[1].pk])
    ok, output = verify()
    assert not ok and f"row id {rows[2].pk}, sequence 2" in broken_line(output, "riverside")


def test_a_tampered_head_is_found(world):
    write(world.practice.pk, 3)
    tamper("UPDATE hub_auditchainhead SET hash = %s WHERE chain = %s", ["b" * 64, world.practice.pk])
    ok, output = verify()
    assert not ok and "the head's hash is not the last row's" in broken_line(output, "riverside")


def test_one_practice_can_be_checked_alone(world, other_world):
    rows = write(world.practice.pk, 2)
    write(other_world.practice.pk, 2)
    tamper("DELETE FROM hub_auditentry WHERE id = %s", [rows[0].pk])
    ok, output = verify("--practice", "lakeside")
    assert ok and "lakeside: 2 rows" in output and "riverside" not in output
    assert not verify("--practice", "riverside")[0]
    ok, output = verify("--practice", "nowhere")
    assert not ok and "No practice" in output


def test_verify_audit_reads_the_trail_in_chunks(world, monkeypatch):
    from hub.management.commands import verify_audit

    monkeypatch.setattr(verify_audit, "CHUNK", 2)
    write(world.practice.pk, 7)
    assert verify("--practice", "riverside")[0]


# --- rows written before the chain existed ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_rows_in_id_order():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("hub", "0009_voice")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    practice = old.get_model("hub", "Practice").objects.create(name="Old", slug="old", widget_key="pk_old")
    patient = old.get_model("hub", "Patient").objects.create(practice=practice, first_name="P")
    entry = old.get_model("hub", "AuditEntry")
    moment = datetime(2024, 5, 1, tzinfo=timezone.utc)
    for i in range(3):
        entry.objects.create(practice=practice, action="patient.viewed", object_type="patient",
                             object_id=str(patient.pk), via="api", ip="127.0.0.1", detail={"i": i}, created_at=moment)
    entry.objects.create(practice=None, action="session.sign_in_failed", object_type="user", object_id="0",
                         via="console", detail={}, created_at=moment)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = list(AuditEntry.objects.filter(practice_id=practice.pk).order_by("pk"))
    assert [r.sequence for r in rows] == [1, 2, 3]
    assert {r.patient_id for r in rows} == {patient.pk}
    assert AuditEntry.objects.get(practice=None).sequence == 1
    assert verify()[0]
    write(practice.pk)  # the chain goes on from the backfilled head
    assert AuditEntry.objects.filter(practice_id=practice.pk).order_by("-sequence")[0].sequence == 4
    assert verify()[0]


# --- concurrent writers (PostgreSQL) ----------------------------------------------------------


def _writers(practice_ids, per_thread, threads_per_practice, hold=0.0):
    errors = []

    def work(practice_id):
        try:
            for i in range(per_thread):
                with transaction.atomic():
                    write(practice_id)
                    time.sleep(hold)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(pid,)) for pid in practice_ids for _ in range(threads_per_practice)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    return errors


@POSTGRES
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_a_chain(world, other_world):
    errors = _writers([world.practice.pk, other_world.practice.pk], per_thread=15, threads_per_practice=4,
                      hold=0.002)
    assert not errors
    for practice in (world.practice, other_world.practice):
        sequences = list(AuditEntry.objects.filter(practice=practice).order_by("sequence")
                         .values_list("sequence", flat=True))
        assert sequences == list(range(1, 61))
    ok, output = verify()
    assert ok, output


@POSTGRES
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_writers_create_one_head(world):
    errors = _writers([world.practice.pk], per_thread=1, threads_per_practice=6)
    assert not errors
    assert AuditChainHead.objects.get(pk=world.practice.pk).sequence == 6
    assert verify()[0]


@POSTGRES
@pytest.mark.django_db(transaction=True)
def test_a_practice_never_waits_for_another_practices_chain(world, other_world):
    write(world.practice.pk)
    write(other_world.practice.pk)
    holding, release = threading.Event(), threading.Event()

    def hold_riverside():
        try:
            with transaction.atomic():
                write(world.practice.pk)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_riverside)
    holder.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            write(other_world.practice.pk)  # not blocked by riverside's open transaction
        with pytest.raises(DatabaseError):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '200ms'")
                write(world.practice.pk)  # riverside's head is held
    finally:
        release.set()
        holder.join(10)
    assert verify()[0]


# --- coverage: every read and change of patient data leaves one row ----------------------------


@pytest.fixture
def console(world):
    """alice in the console, from a known address."""
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(world.alice)
    return client


def only_row(action) -> AuditEntry:
    rows = list(AuditEntry.objects.filter(action=action))
    assert len(rows) == 1, [(r.action, r.object_type, r.object_id) for r in rows]
    return rows[0]


def row_facts(row):
    return row.user_id, row.ip, row.via, row.object_type, row.object_id, row.patient_id


def test_reading_a_thread_and_a_patient_record_is_audited(world, console):
    conversation = inbound(world.practice).conversation
    patient_id = conversation.patient_id
    assert console.get(f"/api/v1/conversations/{conversation.pk}").status_code == 200
    assert console.get(f"/api/v1/patients/{patient_id}").status_code == 200
    assert console.get(f"/api/v1/patients/{patient_id}/timeline").status_code == 200
    assert console.get(f"/api/v1/patients/{patient_id}/conversations").status_code == 200
    alice = (world.alice.pk, "203.0.113.7", "console")
    assert row_facts(only_row("conversation.viewed")) == (*alice, "conversation", str(conversation.pk), patient_id)
    assert row_facts(only_row("patient.viewed")) == (*alice, "patient", str(patient_id), patient_id)
    assert row_facts(only_row("patient.timeline_viewed")) == (*alice, "patient", str(patient_id), patient_id)
    assert row_facts(only_row("patient.conversations_viewed")) == (*alice, "patient", str(patient_id), patient_id)
    assert all(r.practice_id == world.practice.pk for r in AuditEntry.objects.all())


def test_a_refused_read_leaves_no_row(world):
    conversation = inbound(world.practice).conversation
    bob = Client()
    bob.force_login(world.bob)  # billing: not his department
    assert bob.get(f"/api/v1/conversations/{conversation.pk}").status_code == 404
    assert bob.get(f"/api/v1/patients/{conversation.patient_id}/conversations").status_code == 404
    assert not AuditEntry.objects.filter(action__startswith="conversation.").exists()
    assert not AuditEntry.objects.filter(action__startswith="patient.").exists()


def test_working_a_conversation_is_audited(world, console):
    conversation = inbound(world.practice).conversation
    patient_id, path = conversation.patient_id, f"/api/v1/conversations/{conversation.pk}"
    assert console.post(f"{path}/pick-up").status_code == 200
    assert console.post(f"{path}/messages", {"body": "See you Thursday"}, content_type="application/json").status_code == 201
    assert console.post(f"{path}/notes", {"body": "Called the pharmacy"}, content_type="application/json").status_code == 201
    until = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    assert console.post(f"{path}/snooze", {"until": until}, content_type="application/json").status_code == 200
    assert console.post(f"{path}/transfer", {"reason": "Billing question", "department_id": world.billing.pk},
                        content_type="application/json").status_code == 200
    sam = Client(REMOTE_ADDR="198.51.100.2")
    sam.force_login(world.sam)
    assert sam.post(f"{path}/resolve", {"disposition": "resolved"}, content_type="application/json").status_code == 200
    assert sam.post(f"{path}/reopen").status_code == 200
    alice = (world.alice.pk, "203.0.113.7", "console")
    assert row_facts(only_row("conversation.picked_up")) == (*alice, "conversation", str(conversation.pk), patient_id)
    assert row_facts(only_row("conversation.snoozed")) == (*alice, "conversation", str(conversation.pk), patient_id)
    sent = Event.objects.get(kind="message", direction="out")
    assert row_facts(only_row("message.sent")) == (*alice, "event", str(sent.pk), patient_id)
    note = Event.objects.get(kind="note")
    assert row_facts(only_row("note.added")) == (*alice, "event", str(note.pk), patient_id)
    transferred = only_row("conversation.transferred")
    assert row_facts(transferred) == (*alice, "conversation", str(conversation.pk), patient_id)
    assert transferred.detail == {"to": "Billing"}
    sam_facts = (world.sam.pk, "198.51.100.2", "console", "conversation", str(conversation.pk), patient_id)
    assert row_facts(only_row("conversation.resolved")) == sam_facts
    assert row_facts(only_row("conversation.reopened")) == sam_facts
    assert verify()[0]


@pytest.mark.usefixtures("twilio_settings")
def test_a_patients_stop_is_audited_as_a_system_change(world, client):
    from tests.channels_app.twilio_helpers import fixture, post

    params = fixture("sms_incoming")
    params["Body"] = "STOP"
    assert post(client, "/webhooks/twilio/sms", params).status_code == 200
    contact = ContactPoint.objects.get()
    row = only_row("consent.changed")
    assert (row.user_id, row.via, row.object_type, row.object_id, row.patient_id, row.practice_id) == (
        None, "system", "contactpoint", str(contact.pk), contact.patient_id, world.practice.pk)
    assert row.detail["opted_in"] is False and row.detail["source"] == "keyword" and row.detail["changed"] is True


def test_a_staff_consent_change_is_audited_with_who_and_where(world):
    contact = ContactPoint.objects.get(patient=inbound(world.practice).conversation.patient)
    consent.set_sms_consent(contact_point_id=contact.pk, opted_in=False, source="staff", actor=world.sam,
                            via="console", ip="198.51.100.2")
    row = only_row("consent.changed")
    assert (row.user_id, row.ip, row.via, row.object_type, row.object_id, row.patient_id) == (
        world.sam.pk, "198.51.100.2", "console", "contactpoint", str(contact.pk), contact.patient_id)
    assert row.detail["source"] == "staff"


def test_opening_an_attachment_is_audited(world, console, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    event = inbound(world.practice).event
    attachment = Attachment.objects.create(practice=world.practice, event=event, content_type="image/png",
                                           status=Attachment.Status.STORED)
    attachment.file.save("card.png", ContentFile(b"\x89PNG\r\n\x1a\nxx"))
    response = console.get(f"/console/attachments/{attachment.pk}")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert row_facts(only_row("attachment.viewed")) == (
        world.alice.pk, "203.0.113.7", "console", "attachment", str(attachment.pk), event.patient_id)


def test_an_integrations_reads_and_writes_are_audited(world):
    api = Client(REMOTE_ADDR="192.0.2.50", HTTP_AUTHORIZATION=f"Bearer {world.token}")
    response = api.post("/api/v1/inbound", {"source_id": "crm-9", "contact": {"phone": "+15555550199"}, "body": "Hi"},
                        content_type="application/json")
    assert response.status_code == 201
    event = Event.objects.get(pk=response.json()["event"]["id"])
    assert row_facts(only_row("message.received")) == (
        world.integration.pk, "192.0.2.50", "api", "event", str(event.pk), event.patient_id)
    api.post("/api/v1/inbound", {"source_id": "crm-9", "contact": {"phone": "+15555550199"}, "body": "Hi"},
             content_type="application/json")
    assert AuditEntry.objects.filter(action="message.received").count() == 1  # a repeat changes nothing
    assert api.get("/api/v1/kpi/conversations").status_code == 200
    exported = only_row("kpi.exported")
    assert (exported.user_id, exported.ip, exported.via, exported.object_type, exported.object_id) == (
        world.integration.pk, "192.0.2.50", "api", "kpi_table", "conversations")
    assert api.get("/api/v1/kpi/summary").status_code == 200  # aggregates: no patient rows, no audit row
    assert AuditEntry.objects.filter(action="kpi.exported").count() == 1


def test_queue_and_presence_are_not_audited(world, console):
    inbound(world.practice)
    assert console.get("/console/").status_code == 200
    assert console.put("/api/v1/me/presence", {"presence": "away"}, content_type="application/json").status_code == 200
    assert console.get("/api/v1/directory").status_code == 200
    assert set(AuditEntry.objects.values_list("action", flat=True)) <= {"session.signed_in"}

