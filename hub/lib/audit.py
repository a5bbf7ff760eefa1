"""Audit rows: every staff read or change of a patient's data.

Rows are appended to a hash chain per practice (docs/audit.md): the writer
locks the chain's head row, numbers the new row, hashes it with the previous
row's hash and moves the head, all inside the caller's transaction. The head
stays locked until that transaction ends, so call `record` as the last step
of an action. Every practice's audited actions pass through that one row,
so the write is lean: one locked read (which also draws the new row's id on
PostgreSQL), then the head's update and the insert in plain SQL
(hub.lib.fastsql), which on PostgreSQL go with the COMMIT (or the
transaction's next statement) rather than on a round trip of their own.
"""

from __future__ import annotations

from functools import cache

from django.db import IntegrityError, connection, transaction

from hub.lib import audit_chain, clock, fastsql
from hub.models import AuditChainHead, AuditEntry


# What the hub records (docs/audit.md has the same table). The audit log
# page offers these in its action filter; any other action still searches.
ACTIONS = {
    "patient.viewed": "Patient record opened (REST API, console patient panel)",
    "patient.listed": "Patient list or search read",
    "patient.timeline_viewed": "Patient's timeline across conversations read",
    "patient.conversations_viewed": "Patient's list of conversations read",
    "conversation.listed": "Conversation list read (REST API)",
    "conversation.viewed": "Conversation thread opened",
    "attachment.viewed": "Attachment opened or downloaded",
    "message.sent": "Reply sent to the patient",
    "message.received": "Inbound message posted by an integration",
    "note.added": "Internal note added",
    "consent.changed": "Text-message consent recorded (staff, patient keyword or provider)",
    "conversation.picked_up": "Conversation picked up",
    "conversation.assigned": "Conversation assigned by a supervisor",
    "conversation.transferred": "Conversation transferred",
    "conversation.snoozed": "Conversation snoozed",
    "conversation.resolved": "Conversation resolved",
    "conversation.reopened": "Conversation reopened",
    "offer.declined": "Offered conversation declined",
    "kpi.exported": "KPI rows exported (CSV or REST API)",
    "audit.viewed": "Audit log searched",
    "audit.exported": "Audit log exported as CSV",
    "session.signed_in": "Signed in",
    "session.signed_out": "Signed out",
    "session.sign_in_failed": "Failed sign-in",
    "session.idle_logoff": "Signed out for inactivity",
    "session.second_factor": "Second factor passed",
    "session.second_factor_failed": "Second factor failed",
    "two_factor.enabled": "Two-factor sign-in turned on",
    "two_factor.disabled": "Two-factor sign-in turned off",
    "retention.policy_changed": "Data retention policy changed",
    "legal_hold.placed": "Legal hold placed",
    "legal_hold.released": "Legal hold released",
    "ehr.connection_changed": "EHR connection settings changed (admin)",
    "ehr.match_searched": "EHR searched for the conversation's phone (masked candidates)",
    "ehr.record_viewed": "Verified patient's EHR record shown (demographics, appointments, coverage)",
    "ehr.verification_failed": "Identity verification failed",
    "ehr.identity_verified": "Identity verified against the EHR",
    "ehr.verification_reset": "Failed verification attempts cleared by a supervisor",
    "ehr.code_sent": "Verification code texted to the patient",
    "ehr.patient_linked": "Patient linked to an EHR record",
    "ehr.eligibility_checked": "Insurance eligibility checked",
    "ehr.appointment_booked": "Appointment booked in the EHR",
    "ehr.appointment_rescheduled": "Appointment moved in the EHR",
    "ehr.appointment_cancelled": "Appointment cancelled in the EHR",
    "kb.article_created": "Knowledge-base article written",
    "kb.article_changed": "Knowledge-base article changed (a new version)",
    "kb.article_deleted": "Knowledge-base article deleted (admin)",
    "kb.article_assigned": "Article assigned to read",
    "kb.assignment_completed": "Assigned article marked read",
    "training.assigned": "Role-play scenario assigned",
    "training.assignment_removed": "Role-play assignment withdrawn",
    "training.run_reviewed": "Role-play run scored by a supervisor",
    "qa.conversation_viewed": "Resolved conversation opened for a quality review",
    "qa.review_created": "Quality review written",
    "qa.review_updated": "Quality review changed",
    "qa.review_acknowledged": "Quality review acknowledged by the agent",
    "qa.rubric_changed": "Quality rubric changed",
}


def client_ip(meta_or_scope) -> str | None:
    """The client address of a Django request (its META) or an ASGI scope.
    Behind a proxy, Daphne's --proxy-headers puts the real address here."""
    if isinstance(meta_or_scope, dict) and "client" in meta_or_scope:
        client = meta_or_scope.get("client")
        return client[0] if client else None
    return meta_or_scope.get("REMOTE_ADDR") or None


def patient_of(obj) -> int | None:
    """The patient whose data an audited object is, when it is one of the
    hub's patient-data models."""
    from hub.models import Attachment, Patient

    if isinstance(obj, Patient):
        return obj.pk
    if isinstance(obj, Attachment):
        return obj.event.patient_id
    return getattr(obj, "patient_id", None)


@cache
def _head_sql(vendor: str) -> str:
    next_id = fastsql.next_id_sql(AuditEntry) or "NULL"
    # SQLite: the transaction holds the database's write lock from BEGIN.
    lock = " FOR NO KEY UPDATE" if vendor == "postgresql" else ""
    return f"SELECT sequence, hash, {next_id} FROM hub_auditchainhead WHERE chain = %s{lock}"


def _locked_head(chain: int) -> tuple[int, str, int | None]:
    """The chain's last sequence and hash, its row locked until COMMIT, and
    (PostgreSQL) the id the new row will take."""
    sql = _head_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [chain])
        row = cursor.fetchone()
        if row is None:
            # The chain's first row: create its head. A concurrent creator
            # makes this insert wait for it and then fail; the savepoint
            # keeps the caller's transaction usable and the second read
            # finds its head.
            try:
                with transaction.atomic():
                    AuditChainHead.objects.create(chain=chain)
            except IntegrityError:
                pass
            cursor.execute(sql, [chain])
            row = cursor.fetchone()
    return row[0], row[1], row[2]


def record(*, user_id: int | None, practice_id: int | None, action: str, obj, via: str,
           ip: str | None = None, detail: dict | None = None, patient_id: int | None = None) -> AuditEntry:
    """Write one audit row. `obj` is a model instance or an (object_type, id)
    pair; the patient is taken from `obj` when it is patient data, or given."""
    if isinstance(obj, tuple):
        object_type, object_id = obj
    else:
        object_type, object_id = obj._meta.model_name, obj.pk
        if patient_id is None:
            patient_id = patient_of(obj)
    entry = AuditEntry(
        practice_id=practice_id,
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        patient_id=patient_id,
        ip=audit_chain.normal_ip(ip),
        via=via,
        detail=audit_chain.plain_detail(detail),
        created_at=clock.now(),
    )
    # Joins the caller's transaction; outside one, makes its own.
    chain = audit_chain.chain_of(practice_id)
    with transaction.atomic(savepoint=False):
        sequence, prev_hash, entry.pk = _locked_head(chain)
        entry.sequence = sequence + 1
        entry.prev_hash = prev_hash
        entry.hash = audit_chain.row_hash({name: getattr(entry, name) for name in audit_chain.HASHED_COLUMNS})
        with fastsql.deferred():
            fastsql.update(AuditChainHead(chain=chain, sequence=entry.sequence, hash=entry.hash), ["sequence", "hash"])
            fastsql.insert(entry)
    return entry
