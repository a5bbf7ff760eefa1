"""The audit chain's hash: a canonical serialization of one audit row and
its SHA-256. Pure functions of plain values, so the writer, `verify_audit`,
the migration that chained the rows written before, and an auditor holding
only a CSV export (docs/audit.md) all compute the same thing.

Version 1 of the canonical form is the JSON object

    {"action", "created_at", "detail", "ip", "object_id", "object_type",
     "patient", "practice", "prev_hash", "sequence", "user", "v": 1, "via"}

with keys sorted at every level, no whitespace (separators "," and ":"),
non-ASCII characters escaped (\\uXXXX), `created_at` in UTC as
YYYY-MM-DDTHH:MM:SS.ffffff+00:00, `practice`, `user`, `patient` and
`sequence` as numbers or null, `object_id` a string, `ip` a string or null.
The hash is the lowercase hex SHA-256 of its UTF-8 (here: ASCII) bytes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import datetime, timezone

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.ipv6 import clean_ipv6_address

VERSION = 1
GENESIS_HASH = "0" * 64
SYSTEM_CHAIN = 0  # the chain of rows that belong to no practice


def chain_of(practice_id: int | None) -> int:
    return SYSTEM_CHAIN if practice_id is None else practice_id


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def plain_detail(detail: dict | None) -> dict:
    """The detail as the database gives it back: JSON values only (dates,
    decimals and UUIDs become strings the way the JSON field would store them)."""
    return json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder))


def normal_ip(ip: str | None) -> str | None:
    """The address as the database stores it (IPv6 compressed, lower case),
    or None when it is not an IP address at all."""
    if not ip:
        return None
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return None
    return clean_ipv6_address(ip) if ":" in ip else ip


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def canonical(*, practice_id, sequence, user_id, action, object_type, object_id, patient_id, ip, via, detail,
              created_at, prev_hash) -> str:
    return canonical_json({
        "v": VERSION,
        "practice": practice_id,
        "sequence": sequence,
        "user": user_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "patient": patient_id,
        "ip": ip,
        "via": via,
        "detail": detail,
        "created_at": created_at if isinstance(created_at, str) else utc_iso(created_at),
        "prev_hash": prev_hash,
    })


def entry_hash(**fields) -> str:
    return hashlib.sha256(canonical(**fields).encode("utf-8")).hexdigest()


# The row's columns in the order verify_audit reads them.
HASHED_COLUMNS = ("practice_id", "sequence", "user_id", "action", "object_type", "object_id", "patient_id", "ip",
                  "via", "detail", "created_at", "prev_hash")


def row_hash(values: dict) -> str:
    """The hash of a row read back from the database (a `values()` dict)."""
    return entry_hash(**{name: values[name] for name in HASHED_COLUMNS})
