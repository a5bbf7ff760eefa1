"""The retention purge: remove content older than the practice's policy,
except what a legal hold protects, and report what was done.

What a purge removes is content; what it keeps is the shape of the
timeline. Every event keeps its row, kind, channel, direction, author,
timestamps, conversation, delivery state and the structural keys of its
`data` (KEEP_DATA_KEYS: what `kpi.derive` and the hub's own idempotency
checks read), so every KPI figure is the same before and after a purge.
See docs/retention.md.

Work is done in batches of BATCH rows, one short transaction each, and every
step is idempotent: a purged event carries `data["purged_at"]`, a voicemail
whose recording is gone `data["recording_purged_at"]`, and a purged
attachment's row is deleted (its summary on the event says "purged"), so a
second run finds nothing new. Files are deleted from storage only after the
transaction that forgot them commits; recordings at the provider are deleted
after that, from a durable to-do list (ProviderDeletion) that the next run
retries.

Must not be called inside a transaction (the command and the task do not).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from hub.lib import clock
from hub.lib.events import agent_stream, dept_stream, practice_stream
from hub.models import AgentProfile, Attachment, Conversation, Department, Event, Practice, StreamEntry
from hub.retention.models import KINDS, LegalHold, ProviderDeletion, PurgeRun, RetentionPolicy

log = logging.getLogger(__name__)

BATCH = 500
# Recordings deleted at the provider per run (each is one API call); the
# rest wait for the next run.
PROVIDER_DELETIONS_PER_RUN = 1000

PURGED_AT = "purged_at"
RECORDING_PURGED_AT = "recording_purged_at"
PURGE_RUN = "purge_run"
PURGED = "purged"  # the status of a purged file in an event's attachment summary

# The keys of Event.data a purge keeps: ids, states, phases and durations,
# never content. Everything else (message metadata, transfer reasons,
# red-flag phrases, the number a reply went to, transcripts) is removed. A
# new key is removed by default: add it here only if it holds no patient
# data and something (a KPI, an idempotency check) needs it on old events.
KEEP_DATA_KEYS = frozenset({
    # read by kpi.derive
    "action", "by", "how", "assignee_id", "agent_id", "department_id", "topic_id", "to_department_id",
    "moved", "disposition", "automatic", "phase", "call_sid", "queue_seconds", "queue_result",
    "talk_seconds", "call_status", "left_at",
    # structure and states (ids, codes, numbers)
    "from_department_id", "from_agent_id", "to_agent_id", "queue", "duration_seconds", "recording_sid",
    "event_id", "sla", "deadline", "fired_late_seconds", "safety_reply", "consent", "opted_in", "source",
    "segments", "snoozed_until",
    # governed by the attachment and recording policies, not this one
    "attachments",
    # the purge's own marks
    PURGED_AT, RECORDING_PURGED_AT, PURGE_RUN,
})

# has_key first: a JSON key that is missing compares as NULL, and NOT (NULL)
# would leave an event out of `exclude(TRANSCRIPT)` for good.
TRANSCRIPT = Q(kind=Event.Kind.CALL, data__has_key="phase", data__phase="transcript")
VOICEMAIL = Q(kind=Event.Kind.CALL, data__phase="voicemail")


# --- what is held -------------------------------------------------------------------


@dataclass(frozen=True)
class Holds:
    patient_ids: frozenset[int] = frozenset()
    conversation_ids: frozenset[int] = frozenset()  # held directly, or through their patient

    def __bool__(self) -> bool:
        return bool(self.patient_ids or self.conversation_ids)

    def q(self, prefix: str = "") -> Q:
        """Matches rows (events, or via `prefix` their relatives) under a hold."""
        return (Q(**{f"{prefix}patient__in": self.patient_ids})
                | Q(**{f"{prefix}conversation__in": self.conversation_ids}))

    def covers(self, *, patient_id: int | None, conversation_id: int | None) -> bool:
        return patient_id in self.patient_ids or conversation_id in self.conversation_ids


def active_holds(practice_id: int) -> Holds:
    rows = list(LegalHold.objects.filter(practice_id=practice_id, released_at__isnull=True)
                .values_list("patient_id", "conversation_id"))
    patients = {p for p, _ in rows if p is not None}
    conversations = {c for _, c in rows if c is not None}
    if patients:
        conversations |= set(Conversation.objects.filter(patient_id__in=patients).values_list("pk", flat=True))
    return Holds(frozenset(patients), frozenset(conversations))


def _not_held(qs: QuerySet, holds: Holds, prefix: str = "") -> QuerySet:
    return qs.exclude(holds.q(prefix)) if holds else qs


def _held(qs: QuerySet, holds: Holds, prefix: str = "") -> int:
    return qs.filter(holds.q(prefix)).count() if holds else 0


def _locked_holds(practice_id: int) -> Holds:
    """Inside a batch's transaction: the holds, read under the policy row's
    lock, which placing a hold also takes. A hold placed while a batch runs
    waits for it; the next batch sees it."""
    RetentionPolicy.objects.select_for_update().filter(practice_id=practice_id).first()
    return active_holds(practice_id)


# --- what is due ----------------------------------------------------------------------


def policy_for(practice: Practice, *, create: bool = True) -> RetentionPolicy:
    """The practice's policy; without a row, the defaults (stored when `create`)."""
    if create:
        return RetentionPolicy.objects.get_or_create(practice=practice)[0]
    return RetentionPolicy.objects.filter(practice=practice).first() or RetentionPolicy(practice=practice)


def _events(practice_id: int) -> QuerySet:
    return Event.objects.in_practice(practice_id)


def due_messages(practice_id: int, cutoff: datetime) -> QuerySet:
    # A message still waiting to be sent keeps its text until it is sent or fails.
    return (_events(practice_id).filter(created_at__lt=cutoff).exclude(data__has_key=PURGED_AT)
            .exclude(delivery_status=Event.Delivery.PENDING).exclude(TRANSCRIPT))


def due_transcripts(practice_id: int, cutoff: datetime) -> QuerySet:
    return _events(practice_id).filter(TRANSCRIPT, created_at__lt=cutoff).exclude(data__has_key=PURGED_AT)


def due_recordings(practice_id: int, cutoff: datetime) -> QuerySet:
    return (_events(practice_id).filter(VOICEMAIL, created_at__lt=cutoff)
            .exclude(data__has_key=RECORDING_PURGED_AT))


def due_attachments(practice_id: int, cutoff: datetime) -> QuerySet:
    # Files on call events are recordings: the recording policy governs them.
    return (Attachment.objects.in_practice(practice_id).filter(event__created_at__lt=cutoff)
            .exclude(event__kind=Event.Kind.CALL))


def practice_streams(practice_id: int) -> list[str]:
    departments = Department.objects.in_practice(practice_id).values_list("pk", flat=True)
    staff = AgentProfile.objects.in_practice(practice_id).values_list("user_id", flat=True)
    return ([practice_stream(practice_id)] + [dept_stream(d) for d in departments]
            + [agent_stream(u) for u in staff])


def _stream_cutoff(cutoffs: dict[str, datetime | None]) -> datetime | None:
    """Stored stream entries repeat events' content: they go after the
    shortest retention period of any kind."""
    present = [c for c in cutoffs.values() if c is not None]
    return max(present) if present else None


def _entry_targets(entry_type: str, payload: dict) -> tuple[int | None, int | None]:
    """(patient id, conversation id) a stored stream message is about."""
    if not isinstance(payload, dict):
        return None, None
    if entry_type == "conversation.updated":
        return payload.get("patient_id"), payload.get("id")
    return payload.get("patient_id"), payload.get("conversation_id")


# --- the report -------------------------------------------------------------------------


@dataclass
class Result:
    """What one purge of one practice did (or, dry, would do)."""

    practice_id: int
    slug: str
    dry_run: bool
    cutoffs: dict[str, datetime | None]
    purged: Counter = field(default_factory=Counter)
    held: Counter = field(default_factory=Counter)
    run_id: int | None = None

    def __post_init__(self):
        # Every count the report shows is there, zero included.
        for kind, _, _ in KINDS:
            if self.cutoffs.get(kind) is not None:
                self.purged.setdefault(kind, 0)
                self.held.setdefault(kind, 0)
        for key in ("files", "stream_entries") + (() if self.dry_run else
                                                   ("provider_recordings", "provider_failures", "provider_waiting")):
            self.purged.setdefault(key, 0)

    @classmethod
    def of_run(cls, run: PurgeRun, slug: str) -> Result:
        return cls(run.practice_id, slug, False, dict(run.cutoffs), Counter(run.purged), Counter(run.held), run.pk)

    def summary(self) -> str:
        verb = "would purge" if self.dry_run else "purged"
        parts = []
        for kind, _, _ in KINDS:
            if self.cutoffs.get(kind) is None:
                parts.append(f"{kind} kept forever")
            else:
                parts.append(f"{kind} {self.purged[kind]} (held {self.held[kind]})")
        parts.append(f"files {self.purged['files']}")
        parts.append(f"stream entries {self.purged['stream_entries']}")
        if not self.dry_run:
            parts.append(f"recordings deleted at the provider {self.purged['provider_recordings']}"
                         f" (failed {self.purged['provider_failures']}, waiting {self.purged['provider_waiting']})")
        return f"{self.slug}: {verb} " + ", ".join(parts)


# --- the purge ------------------------------------------------------------------------


def plan(practice: Practice, now: datetime) -> Result:
    """What a purge at `now` would do, changing nothing (dry run)."""
    cutoffs = policy_for(practice, create=False).cutoffs(now)
    result = Result(practice.pk, practice.slug, True, cutoffs)
    holds = active_holds(practice.pk)
    due = {
        "messages": (due_messages, ""), "transcripts": (due_transcripts, ""),
        "recordings": (due_recordings, ""), "attachments": (due_attachments, "event__"),
    }
    for kind, (finder, prefix) in due.items():
        cutoff = cutoffs[kind]
        if cutoff is None:
            continue
        qs = finder(practice.pk, cutoff)
        result.purged[kind] = _not_held(qs, holds, prefix).count()
        result.held[kind] = _held(qs, holds, prefix)
        if kind == "attachments":
            result.purged["files"] += _not_held(qs, holds, prefix).exclude(file="").count()
        elif kind == "recordings":
            result.purged["files"] += (Attachment.objects.filter(event__in=_not_held(qs, holds))
                                       .exclude(file="").count())
    stream_cutoff = _stream_cutoff(cutoffs)
    if stream_cutoff is not None:
        for entry in _stream_entries(practice.pk, stream_cutoff).only("type", "payload").iterator(chunk_size=BATCH):
            patient_id, conversation_id = _entry_targets(entry.type, entry.payload)
            if not holds.covers(patient_id=patient_id, conversation_id=conversation_id):
                result.purged["stream_entries"] += 1
    return result


def purge_practice(practice: Practice, now: datetime | None = None, *, trigger: str = "schedule") -> PurgeRun:
    """Purge everything of `practice` that its policy no longer keeps at
    `now`, and record the run. Re-running purges nothing new. A failure is
    recorded on the run (no patient data) and raised again."""
    now = now or clock.now()
    cutoffs = policy_for(practice).cutoffs(now)
    run = PurgeRun.objects.create(
        practice=practice, started_at=clock.now(), trigger=trigger,
        cutoffs={k: (c.isoformat() if c else None) for k, c in cutoffs.items()},
    )
    result = Result(practice.pk, practice.slug, False, cutoffs, run_id=run.pk)
    stage = "starting"
    try:
        for stage, step in (("messages", _purge_messages), ("transcripts", _purge_transcripts),
                            ("attachments", _purge_attachments), ("recordings", _purge_recordings)):
            if cutoffs[stage] is not None:
                step(practice.pk, cutoffs[stage], now, run, result)
        stage = "stream entries"
        stream_cutoff = _stream_cutoff(cutoffs)
        if stream_cutoff is not None:
            _purge_stream_entries(practice.pk, stream_cutoff, result)
        stage = "provider deletions"
        _delete_at_provider(practice.pk, now, result)
        stage = "counting holds"
        _count_held(practice.pk, cutoffs, result)
    except Exception as exc:
        _finish(run, result, PurgeRun.Status.FAILED, f"{type(exc).__name__} while purging {stage}")
        log.error("retention purge of practice %s failed (run %s) while purging %s: %s",
                  practice.pk, run.pk, stage, type(exc).__name__)
        raise
    _finish(run, result, PurgeRun.Status.OK, "")
    log.info("retention purge of practice %s (run %s): %s", practice.pk, run.pk,
             dict(result.purged))
    return run


def _finish(run: PurgeRun, result: Result, status: str, error: str) -> None:
    run.purged = {k: v for k, v in sorted(result.purged.items())}
    run.held = {k: v for k, v in sorted(result.held.items())}
    run.status, run.error, run.finished_at = status, error[:200], clock.now()
    run.save(update_fields=["purged", "held", "status", "error", "finished_at"])


def _batches(qs: QuerySet):
    """Primary keys of `qs` in batches, lowest first. Each batch is read
    again (and locked) by the caller inside its own transaction."""
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return
        yield ids
        last = ids[-1]


def strip_content(data: dict, run_id: int, at: str, *, mark: str = PURGED_AT) -> dict:
    kept = {k: v for k, v in (data or {}).items() if k in KEEP_DATA_KEYS}
    kept[mark] = at
    kept[PURGE_RUN] = run_id
    return kept


def _purge_content(practice_id: int, due: QuerySet, kind: str, now: datetime, run: PurgeRun, result: Result) -> None:
    """Blank the bodies and content keys of due events (messages, or transcripts)."""
    at = now.isoformat()
    for ids in _batches(due):
        with transaction.atomic():
            holds = _locked_holds(practice_id)
            rows = list(_not_held(Event.objects.filter(pk__in=ids), holds).select_for_update())
            changed = []
            for event in rows:
                if PURGED_AT in (event.data or {}):
                    continue  # another run got here first
                event.body = ""
                event.data = strip_content(event.data, run.pk, at)
                event.updated_at = clock.now()
                changed.append(event)
            Event.objects.bulk_update(changed, ["body", "data", "updated_at"])
        result.purged[kind] += len(changed)


def _purge_messages(practice_id, cutoff, now, run, result) -> None:
    _purge_content(practice_id, _not_held(due_messages(practice_id, cutoff), active_holds(practice_id)),
                   "messages", now, run, result)


def _purge_transcripts(practice_id, cutoff, now, run, result) -> None:
    _purge_content(practice_id, _not_held(due_transcripts(practice_id, cutoff), active_holds(practice_id)),
                   "transcripts", now, run, result)


def _purged_summary(item: dict, at: str) -> dict:
    """An attachment summary on an event, once its file is gone: what it
    was (type, size) but not its name."""
    return {"id": item.get("id"), "content_type": item.get("content_type", ""), "status": PURGED,
            "size": item.get("size"), "filename": "", "reason": "", PURGED_AT: at}


def _mark_files_purged(event: Event, attachment_ids: set[int], at: str) -> None:
    event.data = {**(event.data or {}), "attachments": [
        _purged_summary(item, at) if item.get("id") in attachment_ids else item
        for item in (event.data or {}).get("attachments", [])
    ]}


def _delete_files_after_commit(files: list[tuple], result: Result) -> None:
    """After the transaction that forgot them commits, remove the files from
    storage (a rollback keeps both the rows and the files)."""
    def delete():
        for storage, name, attachment_id in files:
            try:
                storage.delete(name)
            except OSError:
                log.warning("retention: could not delete the file of attachment %s", attachment_id)
                continue
            result.purged["files"] += 1

    if files:
        transaction.on_commit(delete)


def _purge_attachments(practice_id, cutoff, now, run, result) -> None:
    at = now.isoformat()
    for ids in _batches(_not_held(due_attachments(practice_id, cutoff), active_holds(practice_id), "event__")):
        with transaction.atomic():
            holds = _locked_holds(practice_id)
            attachments = list(_not_held(Attachment.objects.filter(pk__in=ids), holds, "event__")
                               .select_for_update(of=("self",)))
            by_event: dict[int, set[int]] = {}
            for a in attachments:
                by_event.setdefault(a.event_id, set()).add(a.pk)
            events = list(Event.objects.filter(pk__in=by_event).select_for_update())
            for event in events:
                _mark_files_purged(event, by_event[event.pk], at)
                event.updated_at = clock.now()
            Event.objects.bulk_update(events, ["data", "updated_at"])
            files = [(a.file.storage, a.file.name, a.pk) for a in attachments if a.file]
            Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
            _delete_files_after_commit(files, result)
        result.purged["attachments"] += len(attachments)


def _purge_recordings(practice_id, cutoff, now, run, result) -> None:
    """A voicemail's recording: its file here, and the provider's copy
    (queued in the same transaction, deleted after commit)."""
    at = now.isoformat()
    for ids in _batches(_not_held(due_recordings(practice_id, cutoff), active_holds(practice_id))):
        with transaction.atomic():
            holds = _locked_holds(practice_id)
            events = [e for e in _not_held(Event.objects.filter(pk__in=ids), holds).select_for_update()
                      if RECORDING_PURGED_AT not in (e.data or {})]
            attachments = list(Attachment.objects.filter(event__in=[e.pk for e in events])
                               .select_for_update(of=("self",)))
            by_event: dict[int, set[int]] = {}
            for a in attachments:
                by_event.setdefault(a.event_id, set()).add(a.pk)
            deletions = []
            for event in events:
                _mark_files_purged(event, by_event.get(event.pk, set()), at)
                event.data[RECORDING_PURGED_AT] = at
                event.data.setdefault(PURGE_RUN, run.pk)
                event.updated_at = clock.now()
                sid = str(event.data.get("recording_sid") or "")
                if sid:
                    deletions.append(ProviderDeletion(practice_id=practice_id, channel=event.channel or "voice",
                                                      kind="recording", provider_id=sid[:64], event_id=event.pk,
                                                      run=run, created_at=clock.now()))
            Event.objects.bulk_update(events, ["data", "updated_at"])
            ProviderDeletion.objects.bulk_create(deletions, ignore_conflicts=True)
            files = [(a.file.storage, a.file.name, a.pk) for a in attachments if a.file]
            Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
            _delete_files_after_commit(files, result)
        result.purged["recordings"] += len(events)


def _stream_entries(practice_id: int, cutoff: datetime) -> QuerySet:
    return StreamEntry.objects.filter(stream__in=practice_streams(practice_id), created_at__lt=cutoff)


def _purge_stream_entries(practice_id: int, cutoff: datetime, result: Result) -> None:
    """Stored realtime messages older than the shortest retention period. A
    console that reconnects from before them reloads its state instead of
    replaying (the consumer already handles pruned history)."""
    last = 0
    while True:
        rows = list(_stream_entries(practice_id, cutoff).filter(pk__gt=last).order_by("pk")
                    .values_list("pk", "type", "payload")[:BATCH])
        if not rows:
            return
        last = rows[-1][0]
        with transaction.atomic():
            holds = _locked_holds(practice_id)
            doomed = []
            for pk, entry_type, payload in rows:
                patient_id, conversation_id = _entry_targets(entry_type, payload)
                if holds.covers(patient_id=patient_id, conversation_id=conversation_id):
                    continue
                doomed.append(pk)
            deleted = StreamEntry.objects.filter(pk__in=doomed).delete()[0] if doomed else 0
        result.purged["stream_entries"] += deleted


def _delete_at_provider(practice_id: int, now: datetime, result: Result) -> None:
    """Delete the provider's copies the purge has queued (this run's and
    earlier runs' that failed for a passing reason), unless a hold now
    protects them. Outside any transaction: the queue row is committed
    before the provider is called, and marked after."""
    from channels_app.base import AdapterError
    from channels_app.registry import UnknownChannel, get_adapter

    pending = list(ProviderDeletion.objects.filter(practice_id=practice_id, status=ProviderDeletion.Status.PENDING)
                   .order_by("pk")[:PROVIDER_DELETIONS_PER_RUN])
    if not pending:
        return
    holds = active_holds(practice_id)
    owners = dict((pk, (patient, conversation)) for pk, patient, conversation in
                  Event.objects.filter(pk__in=[d.event_id for d in pending])
                  .values_list("pk", "patient_id", "conversation_id"))
    for deletion in pending:
        patient_id, conversation_id = owners.get(deletion.event_id, (None, None))
        if holds.covers(patient_id=patient_id, conversation_id=conversation_id):
            result.held["provider_recordings"] += 1
            continue
        deletion.attempts += 1
        try:
            get_adapter(deletion.channel).delete_recording(deletion.provider_id)
        except (AdapterError, UnknownChannel) as exc:
            permanent = not isinstance(exc, AdapterError) or exc.permanent
            deletion.error_code = (getattr(exc, "code", "") or ("refused" if permanent else "unavailable"))[:32]
            if permanent:
                deletion.status = ProviderDeletion.Status.FAILED
            deletion.save(update_fields=["attempts", "error_code", "status"])
            result.purged["provider_failures"] += 1
            log.warning("retention: the provider did not delete recording deletion #%s (%s)",
                        deletion.pk, deletion.error_code)
            continue
        deletion.status, deletion.done_at, deletion.error_code = ProviderDeletion.Status.DONE, clock.now(), ""
        deletion.save(update_fields=["attempts", "error_code", "status", "done_at"])
        result.purged["provider_recordings"] += 1
    result.purged["provider_waiting"] = ProviderDeletion.objects.filter(
        practice_id=practice_id, status=ProviderDeletion.Status.PENDING).count()


def _count_held(practice_id: int, cutoffs: dict, result: Result) -> None:
    """What is still due but kept by a hold: the report's `held` counts."""
    holds = active_holds(practice_id)
    if not holds:
        return
    for kind, finder, prefix in (("messages", due_messages, ""), ("transcripts", due_transcripts, ""),
                                 ("recordings", due_recordings, ""), ("attachments", due_attachments, "event__")):
        if cutoffs[kind] is not None:
            result.held[kind] = _held(finder(practice_id, cutoffs[kind]), holds, prefix)
