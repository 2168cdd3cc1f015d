"""The disclosure log: append-only, hash-chained, one bulk insert per request.

Appends are serialised with a transaction-scoped advisory lock taken only at the
very end of the request's transaction, so the lock is held for the insert and the
commit, not while the response is built. Each row's hash covers its content and
the previous row's hash; ``verify_chain`` recomputes the chain and reports the
first row that was edited, removed or inserted out of band.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from .models import DisclosureLogEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x5249_5344  # "RISD"


@dataclass(frozen=True)
class LogLine:
    event: str
    channel: str
    user_id: int | None = None
    organisation_id: int | None = None
    role: str = ""
    person_id: int | None = None
    category: str = ""
    level: str = ""
    purpose: str = ""
    basis: str = ""
    request_id: str = ""


def _payload(row: DisclosureLogEntry) -> str:
    at = row.at.astimezone(dt.UTC).isoformat()
    parts = (
        at, row.event, row.user_id, row.organisation_id, row.role, row.person_id, row.category, row.level,
        row.purpose, row.basis, row.channel, row.request_id,
    )
    return "|".join("" if p is None else str(p) for p in parts)


def row_hash(prev_hash: str, row: DisclosureLogEntry) -> str:
    return hashlib.sha256(f"{prev_hash}|{_payload(row)}".encode()).hexdigest()


#: The LogLine fields passed to ``ris_disclosure_append`` as arrays, in its argument order.
_COLUMNS = (
    "event", "user_id", "organisation_id", "role", "person_id", "category", "level", "purpose", "basis",
    "channel", "request_id",
)
_APPEND_SQL = (
    "SELECT id, prev_hash, row_hash FROM ris_disclosure_append("
    "%s, %s, %s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::bigint[], %s::text[], "
    "%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
)


def disclosure_log_append(lines: list[LogLine]) -> list[DisclosureLogEntry]:
    """Append the lines of one request in a single statement, chained to the current tail.

    ``ris_disclosure_append`` (migration sharing/0005) takes the advisory lock, reads the tail
    after it, chains the hashes of the payloads built here and inserts the rows: one round trip.
    """
    if not lines:
        return []
    now = timezone.now()
    rows = [DisclosureLogEntry(at=now, **line.__dict__) for line in lines]
    params = [
        _LOCK_KEY,
        now,
        *([getattr(line, name) for line in lines] for name in _COLUMNS),
        [_payload(row) for row in rows],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, params)
        written = cursor.fetchall()
    for row, (pk, prev_hash, hashed) in zip(rows, written, strict=True):
        row.pk, row.prev_hash, row.row_hash = pk, prev_hash, hashed
        row._state.adding, row._state.db = False, connection.alias
    return rows


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    first_broken_id: int | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the log in id order, recomputing every hash."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        batch = list(DisclosureLogEntry.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return ChainReport(checked, None)
        for row in batch:
            if row.prev_hash != prev:
                return ChainReport(checked, row.id, "missing_or_reordered")
            if row_hash(prev, row) != row.row_hash:
                return ChainReport(checked, row.id, "altered")
            prev = row.row_hash
            checked += 1
            last_id = row.id
