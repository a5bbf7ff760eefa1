"""The demo EHR's storage: versioned FHIR resources in a stdlib sqlite3 file.

Every version of every resource is a row (type, id, version_id,
last_updated, json); reads see the highest version. Nothing is stored that
fails validation with the fhir.resources R4B model of its type, so whatever
the demo EHR serves from its store is valid FHIR.

Connections are opened per call (the WSGI server answers each request on
its own thread) except inside `transaction()`, whose one connection every
call on that thread shares until it ends.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version_id INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (type, id, version_id)
)
"""


def validate_resource(resource: Any) -> None:
    """Raise ValueError unless `resource` is a valid R4B resource.

    The message names the failing fields but never quotes their values:
    they may be patient data.
    """
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise ValueError("not a FHIR resource (no resourceType)")
    try:
        model = get_fhir_model_class(resource["resourceType"])
    except (KeyError, ValueError):
        raise ValueError("unknown resource type") from None
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or resource['resourceType']}: {e['msg']}"
                    for e in exc.errors(include_url=False, include_input=False)]
        raise ValueError(f"invalid {resource['resourceType']}: " + "; ".join(problems[:5])) from None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class Store:
    """Versioned FHIR resources in the sqlite3 file at `path`."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._local = threading.local()
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        active = getattr(self._local, "conn", None)
        if active is not None:
            yield active
            return
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every store call on this thread one atomic write (BEGIN
        IMMEDIATE: the write lock is taken up front, so a read-then-write
        such as "is the slot free? then book it" cannot interleave with
        another writer). Nested use joins the outer transaction."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            self._local.conn = conn
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.conn = None

    def get(self, resource_type: str, resource_id: str, version: int | None = None) -> dict | None:
        """The resource's latest version (or `version`), or None."""
        sql = "SELECT json FROM resources WHERE type = ? AND id = ?"
        args: tuple = (resource_type, resource_id)
        if version is not None:
            sql, args = sql + " AND version_id = ?", (*args, version)
        with self._connection() as conn:
            row = conn.execute(sql + " ORDER BY version_id DESC LIMIT 1", args).fetchone()
        return json.loads(row[0]) if row else None

    def search(self, resource_type: str) -> Iterator[dict]:
        """The latest version of every resource of the type, by id."""
        # SQLite takes the bare column (json) from the row holding the MAX.
        with self._connection() as conn:
            rows = conn.execute("SELECT json, MAX(version_id) FROM resources WHERE type = ? GROUP BY id ORDER BY id",
                                (resource_type,)).fetchall()
        return (json.loads(row[0]) for row in rows)

    def put(self, resource: dict) -> dict:
        """Store `resource` as a new version (version 1 if new; an id is
        assigned if it has none) and return what was stored, with
        meta.versionId and meta.lastUpdated set. ValueError if invalid."""
        stored = copy.deepcopy(resource)
        validate_resource(stored)
        stored.setdefault("id", uuid.uuid4().hex)
        with self.transaction(), self._connection() as conn:
            row = conn.execute("SELECT MAX(version_id) FROM resources WHERE type = ? AND id = ?",
                               (stored["resourceType"], stored["id"])).fetchone()
            version = (row[0] or 0) + 1
            updated = _now()
            stored["meta"] = {**(stored.get("meta") or {}), "versionId": str(version), "lastUpdated": updated}
            conn.execute("INSERT INTO resources (type, id, version_id, last_updated, json) VALUES (?, ?, ?, ?, ?)",
                         (stored["resourceType"], stored["id"], version, updated, json.dumps(stored)))
        return stored
