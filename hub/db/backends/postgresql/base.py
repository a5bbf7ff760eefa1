"""Django's PostgreSQL backend, with the realtime stream entries of a
transaction written in the same round trip as its COMMIT.

Each stream's counter row stays locked from that write to the end of the
COMMIT, so one department's events commit one at a time (which is what
keeps a stream's sequence in commit order, see hub.lib.events). Written
with the COMMIT, the lock lasts one round trip and the server's flush, and
no Python runs while it is held.
"""

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.utils import debug_transaction

from hub.lib import events


class DatabaseWrapper(PostgresWrapper):
    def _commit(self):
        publications = events.unstored(self)
        if not publications or self.connection is None:
            return super()._commit()
        sql, params, assign = events.store_statement_postgresql(publications)
        with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
            with self.connection.pipeline(), self.connection.cursor() as cursor:
                cursor.execute(sql, params)
                self.connection.commit()
                rows = cursor.fetchall()
        assign(rows)
