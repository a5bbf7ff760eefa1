"""Re-check the audit trail's hash chains (docs/audit.md).

Walks each chain in sequence order, recomputes every row's hash and checks
that each row links to the one before and that the chain's head points at
its last row. Reports the first broken link of each chain by row id and
sequence only: detail values may name patients and are never printed.
Exit status 0 when every chain is intact, 1 otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError

from hub.lib import audit_chain
from hub.models import AuditChainHead, AuditEntry, Practice

CHUNK = 2000


@dataclass
class Result:
    name: str
    rows: int = 0
    last_sequence: int = 0
    last_hash: str = audit_chain.GENESIS_HASH
    broken_id: int | None = None
    broken_sequence: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem

    def fail(self, problem: str, row_id: int | None = None, sequence: int | None = None) -> None:
        if not self.problem:
            self.problem, self.broken_id, self.broken_sequence = problem, row_id, sequence


def verify_chain(practice_id: int | None, name: str) -> Result:
    result = Result(name)
    rows = (AuditEntry.objects.filter(practice_id=practice_id) if practice_id is not None
            else AuditEntry.objects.filter(practice__isnull=True))
    columns = ("id", "hash", *audit_chain.HASHED_COLUMNS)
    expected, prev = 1, audit_chain.GENESIS_HASH
    for values in rows.order_by("sequence").values(*columns).iterator(chunk_size=CHUNK):
        result.rows += 1
        row_id, sequence = values["id"], values["sequence"]
        if result.intact:
            if audit_chain.row_hash(values) != values["hash"]:
                result.fail("the row does not match its hash (changed after it was written)", row_id, sequence)
            elif sequence != expected:
                missing = f"{expected}" if sequence == expected + 1 else f"{expected} to {sequence - 1}"
                result.fail(f"the rows before it are missing (sequence {missing}: deleted)", row_id, sequence)
            elif values["prev_hash"] != prev:
                result.fail("the row does not link to the row before it (row inserted, replaced or moved)",
                            row_id, sequence)
        expected, prev = sequence + 1, values["hash"]
        result.last_sequence, result.last_hash = sequence, values["hash"]
    head = AuditChainHead.objects.filter(pk=audit_chain.chain_of(practice_id)).first()
    head_sequence, head_hash = (head.sequence, head.hash) if head else (0, audit_chain.GENESIS_HASH)
    if head is None and result.rows:
        result.fail("the chain has no head row")
    elif head_sequence > result.last_sequence:
        result.fail(f"the head is at sequence {head_sequence} but the last row is {result.last_sequence} "
                    "(rows deleted from the end, or the head changed)")
    elif head_sequence < result.last_sequence:
        result.fail(f"rows continue past the head (sequence {head_sequence}): rows added without the writer, "
                    "or the head changed", *_row_after(rows, head_sequence))
    elif head_hash != result.last_hash:
        result.fail("the head's hash is not the last row's (the head or the last row changed)")
    return result


def _row_after(rows, sequence: int) -> tuple[int | None, int | None]:
    found = rows.filter(sequence__gt=sequence).order_by("sequence").values_list("id", "sequence").first()
    return found or (None, None)


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains; exit 1 if any chain is broken."

    def add_arguments(self, parser):
        parser.add_argument("--practice", metavar="SLUG", help="Only this practice's chain.")

    def handle(self, *args, practice=None, **options):
        if practice:
            found = Practice.objects.filter(slug=practice).values_list("pk", "slug").first()
            if found is None:
                raise CommandError(f"No practice with the slug {practice!r}.")
            chains = [found]
        else:
            # Audit rows protect their practice from deletion: every chain
            # but the system's belongs to a practice that exists.
            chains = [(None, "(system)"), *Practice.objects.order_by("slug").values_list("pk", "slug")]
        broken = 0
        for practice_id, name in chains:
            result = verify_chain(practice_id, name)
            head = f"head {result.last_sequence}:{result.last_hash}"
            if result.intact:
                self.stdout.write(f"OK      {name}: {result.rows} rows, {head}")
                continue
            broken += 1
            where = (f" at row id {result.broken_id}, sequence {result.broken_sequence}"
                     if result.broken_id is not None else "")
            self.stdout.write(f"BROKEN  {name}: {result.rows} rows, first break{where}: {result.problem}")
        if broken:
            raise CommandError(f"The audit trail is broken in {broken} of {len(chains)} chain(s).")
        self.stdout.write(f"Audit trail intact: {len(chains)} chain(s).")
