"""Audit rows: every staff read or change of a patient's data."""

from __future__ import annotations

from hub.lib import clock
from hub.models import AuditEntry


def client_ip(meta_or_scope) -> str | None:
    """The client address of a Django request (its META) or an ASGI scope.
    Behind a proxy, Daphne's --proxy-headers puts the real address here."""
    if isinstance(meta_or_scope, dict) and "client" in meta_or_scope:
        client = meta_or_scope.get("client")
        return client[0] if client else None
    return meta_or_scope.get("REMOTE_ADDR") or None


def record(*, user_id: int | None, practice_id: int | None, action: str, obj, via: str,
           ip: str | None = None, detail: dict | None = None) -> AuditEntry:
    """Write one audit row. `obj` is a model instance or an (object_type, id) pair."""
    if isinstance(obj, tuple):
        object_type, object_id = obj
    else:
        object_type, object_id = obj._meta.model_name, obj.pk
    return AuditEntry.objects.create(
        practice_id=practice_id,
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        ip=ip,
        via=via,
        detail=detail or {},
        created_at=clock.now(),
    )
