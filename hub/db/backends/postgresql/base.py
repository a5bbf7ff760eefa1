"""Django's PostgreSQL backend, with fewer round trips per transaction.

Three things that Django and psycopg each send on their own round trip ride
along with the next statement instead:

- BEGIN. A transaction's BEGIN is held back and sent in front of its first
  statement ("BEGIN; SELECT ..." is one round trip), and a transaction that
  ran no statement costs nothing at all.
- Writes whose result nobody reads (`hub.lib.fastsql.deferred`): they go
  with the next statement of the transaction, or with its COMMIT.
- The realtime stream entries (hub.lib.events): numbered and stored by one
  statement sent with the COMMIT.

So the common inbound message (find the thread, insert the event, update the
thread, store its stream entries, commit) costs two round trips. Several
statements go as one simple query; psycopg's pipeline mode would do the
same in principle, but entering, syncing and leaving it cost more than the
round trips it saves (docs/performance.md).

Each stream's counter row stays locked from the statement that bumps it to
the end of the COMMIT in the same round trip, so one department's events
commit one at a time (which is what keeps a stream's sequence in commit
order, see hub.lib.events), and no Python runs while it is held.

Joining statements needs psycopg's client-side parameter binding, Django's
default; the rest of the backend is Django's own.
"""

from __future__ import annotations

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.utils import debug_transaction
from psycopg import ClientCursor, pq

from hub.lib import events

IDLE = pq.TransactionStatus.IDLE
BEGIN = ("BEGIN", [])


class DatabaseWrapper(PostgresWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Statements (sql, params) to send in front of the next one.
        self.deferred: list[tuple[str, list]] = []
        self.deferring = False  # inside hub.lib.fastsql.deferred()
        # Outermost, so that it sees each statement as its caller wrote it.
        self.execute_wrappers.insert(0, self._with_deferred)

    def defer(self, sql: str, params: list) -> None:
        """Send `sql` with the transaction's next statement or its COMMIT.
        Its errors surface there. Only inside a transaction."""
        self.deferred.append((sql, list(params)))

    # --- Transactions ---------------------------------------------------

    def _start_transaction_under_autocommit(self):
        # Django calls this (rather than turning psycopg's autocommit off,
        # which makes psycopg send BEGIN on a round trip of its own) when
        # the outermost atomic block starts. psycopg stays in autocommit
        # mode; the server is in a transaction from the BEGIN on.
        self.deferred = [BEGIN]

    def _commit(self):
        pending, self.deferred = self.deferred, []
        publications = events.unstored(self)
        if self.connection is None:
            return
        idle = pending == [BEGIN] or (not pending and self.connection.info.transaction_status == IDLE)
        if idle and not publications:
            return  # nothing ran: there is no transaction to end
        statements = list(pending)
        store = None
        if publications:
            sql, params, store = events.store_statement_postgresql(publications)
            statements.append((sql, params))
        statements.append(("COMMIT", []))
        with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
            with self.connection.cursor() as cursor:
                _execute_joined(cursor, statements)
                if store is not None:
                    for _ in pending:
                        cursor.nextset()
                    store(cursor.fetchall())

    def _rollback(self):
        self.deferred = []
        if self.connection is not None and self.connection.info.transaction_status == IDLE:
            return  # the BEGIN was never sent
        return super()._rollback()

    def _close(self):
        self.deferred = []
        return super()._close()

    # --- Statements -----------------------------------------------------

    def _with_deferred(self, execute, sql, params, many, context):
        if not self.deferred:
            return execute(sql, params, many, context)
        pending, self.deferred = self.deferred, []
        raw = context["cursor"].cursor
        if many or not isinstance(params, (list, tuple)) or not isinstance(raw, ClientCursor):
            # executemany, named parameters, no parameters (a literal % must
            # not be read as one), a server-side cursor: on their own.
            with self.wrap_database_errors, self.connection.cursor() as cursor:
                _execute_joined(cursor, pending)
            return execute(sql, params, many, context)
        joined = "; ".join([*(s for s, _ in pending), sql])
        result = execute(joined, [*(p for _, ps in pending for p in ps), *params], many, context)
        for _ in pending:
            raw.nextset()  # the caller reads its own statement's result
        return result


def _execute_joined(cursor, statements: list[tuple[str, list]]) -> None:
    """Several statements as one simple query, in one round trip."""
    params = [p for _, ps in statements for p in ps]
    cursor.execute("; ".join(s for s, _ in statements), params or None)
