"""Django's SQLite backend, with the realtime stream entries of a
transaction written just before its COMMIT (as the PostgreSQL backend
does, so both take the same path; SQLite holds its one write lock from
BEGIN anyway)."""

from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper

from hub.lib import events


class DatabaseWrapper(SQLiteWrapper):
    def _commit(self):
        publications = events.unstored(self)
        if publications and self.connection is not None:
            with self.cursor() as cursor:
                events.store_with_cursor(publications, cursor)
        return super()._commit()
