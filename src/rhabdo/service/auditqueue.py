"""Audit events of high-volume reads written in batches, off the request's path.

A CDS Hooks answer served from the cache costs well under a millisecond of work, and its audit
event (one database commit) was most of it; under load every call waited for the database's
write lock.  ``AuditQueue`` keeps such events in memory and a background task of the server
writes them in one transaction every ``FLUSH_INTERVAL_S``.  Nothing is dropped:

* the server's shutdown (SIGTERM, the end of the lifespan) writes whatever is still queued;
* at ``max_pending`` queued events the request that fills the queue writes the batch itself;
* a failed write keeps the batch for the next attempt;
* while no background task runs (a test client without its lifespan, a command-line tool),
  each event is written at once, as before.

Only a ``kill -9`` of the process can lose the events of the last interval; saves and their
audit events never go through this queue (they commit in one transaction, see ``store``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from sqlalchemy import insert

from rhabdo.service import store
from rhabdo.service.db import AuditEvent, utcnow, write_lock

log = logging.getLogger("rhabdo.service")

#: Seconds between two writes of the queued events.
FLUSH_INTERVAL_S = 0.25
#: Queued events at which the request that adds one writes the batch itself.
MAX_PENDING = 5000


class AuditQueue:
    def __init__(self, sessionmaker: Any, max_pending: int = MAX_PENDING) -> None:
        self.sessionmaker = sessionmaker
        self.max_pending = max_pending
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        #: True while a background task flushes the queue (set by the server's lifespan).
        self.deferred = False

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def record(
        self,
        username: str | None,
        action: store.AuditAction,
        object_type: str | None = None,
        object_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Queue one event (stamped now), or write it at once when nothing flushes the queue."""
        event = store.audit_event(username, action, object_type, object_id, detail)
        row = {
            "at": utcnow(),
            "username": event.username,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": event.detail,
        }
        with self._lock:
            self._pending.append(row)
            full = len(self._pending) >= self.max_pending
        if full or not self.deferred:
            self.flush()

    def flush(self) -> int:
        """Write every queued event in one transaction; the number written.  On a database
        error the events stay queued (in their order) and the error is raised."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                with write_lock(self.sessionmaker.kw["bind"]), self.sessionmaker() as db:
                    db.execute(insert(AuditEvent), batch)
                    db.commit()
            except Exception:
                with self._lock:
                    self._pending[:0] = batch
                raise
            return len(batch)


async def flush_periodically(queue: AuditQueue) -> None:
    """The server's background task: write the queue every ``FLUSH_INTERVAL_S`` (in a worker
    thread, never on the event loop) until cancelled."""
    import anyio.to_thread

    while True:
        await asyncio.sleep(FLUSH_INTERVAL_S)
        try:
            await anyio.to_thread.run_sync(queue.flush)
        except Exception:  # kept queued; the next round tries again
            log.exception("writing queued audit events failed; they stay queued")
