"""State that every server process must share, kept in the database: the CDS JWT ``jti``
replay cache and the sign-in throttle.  (Sessions live in ``web_sessions``, see ``auth``.)

Several ``rhabdo serve`` processes behind one proxy, on one machine or many, then behave as one
service: a ``jti`` used on one process is refused on every other, and failed sign-ins count
wherever they were tried.  Keys are stored as SHA-256 digests, so no username, address or
token identifier is kept in clear.

The CDS answer cache stays per process by design: an answer is a pure function of the FHIR
data, the client and the day, and its snapshot is stored under an id derived from the same
digest, so every process gives the same answer and the same assessment link.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import case, delete, insert, update
from sqlalchemy.exc import IntegrityError

from rhabdo.service.db import CdsJti, SignInFailure, write_lock

#: A used ``jti`` is remembered this long after its token expires (beyond the JWT leeway).
JTI_GRACE_S = 120
#: The first wait after the free attempts of a throttle key, doubled on every further failure.
BACKOFF_BASE_S = 5
#: A named user is slowed by at most this much by failures from other addresses: never locked.
USER_BACKOFF_CAP_S = 60


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DbReplayCache:
    """``jti`` values seen until their token expires, in the database (all processes)."""

    def __init__(self, sessionmaker: Any) -> None:
        self.sessionmaker = sessionmaker
        self._claims = 0
        self._lock = write_lock(sessionmaker.kw["bind"])

    def claim(self, issuer: str, jti: str, exp: float) -> bool:
        """True the first time (issuer, jti) is seen while its token is valid; else False."""
        key = _digest(f"{issuer}\x00{jti}")
        now = time.time()
        keep_until = exp + JTI_GRACE_S
        with self._lock, self.sessionmaker() as db:
            self._claims += 1
            if self._claims % 500 == 0:
                db.execute(delete(CdsJti).where(CdsJti.expires_at < now))
                db.commit()
            try:
                db.execute(insert(CdsJti).values(key=key, expires_at=keep_until))
                db.commit()
                return True
            except IntegrityError:
                db.rollback()
            # Seen before: usable again only if the earlier token has long expired.
            moved = db.execute(
                update(CdsJti)
                .where(CdsJti.key == key, CdsJti.expires_at < now)
                .values(expires_at=keep_until)
            )
            db.commit()
            return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


class SignInThrottled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")


def backoff_s(failures: int, free: int, cap: float) -> float:
    """The wait after ``failures`` recent failures: none for the first ``free``, then
    ``BACKOFF_BASE_S`` doubling with each further failure, at most ``cap``."""
    if failures < free:
        return 0.0
    return float(min(cap, BACKOFF_BASE_S * 2 ** min(failures - free, 20)))


class DbSignInLimiter:
    """Failed sign-ins counted in the database, with exponential backoff (never a hard lock).

    Called with the keys ``user:<name>`` and ``addr:<address>``, it throttles three things:
    the pair (this user from this address) after ``max_failures``; the address (any user)
    after four times as many; the user from any address after ten times as many, and then
    by at most ``USER_BACKOFF_CAP_S``, so nobody can lock a named user out.  Counts restart
    when no failure happened for ``window_s``.
    """

    def __init__(self, sessionmaker: Any, max_failures: int, window_s: int) -> None:
        self.sessionmaker = sessionmaker
        self.max_failures = max_failures
        self.window_s = window_s

    def _rules(self, keys: Iterable[str]) -> list[tuple[str, int, float]]:
        keys = list(keys)
        users = [k for k in keys if k.startswith("user:")]
        addrs = [k for k in keys if k.startswith("addr:")]
        rules: list[tuple[str, int, float]] = []
        for u in users:
            rules.append((u, self.max_failures * 10, USER_BACKOFF_CAP_S))
        for a in addrs:
            rules.append((a, self.max_failures * 4, self.window_s))
        for u in users:
            for a in addrs:
                rules.append((f"{u}\x00{a}", self.max_failures, self.window_s))
        return [(_digest(k), free, cap) for k, free, cap in rules]

    def check(self, *keys: str) -> None:
        """Raise ``SignInThrottled`` (with the seconds to wait) if any key must wait."""
        now = time.time()
        wait = 0.0
        with self.sessionmaker() as db:
            for key, free, cap in self._rules(keys):
                row = db.get(SignInFailure, key)
                if row is None or now - row.last_at > self.window_s:
                    continue
                wait = max(wait, row.last_at + backoff_s(row.failures, free, cap) - now)
        if wait > 0:
            raise SignInThrottled(max(1, math.ceil(wait)))

    def failed(self, *keys: str) -> None:
        now = time.time()
        stale = now - self.window_s
        with self.sessionmaker() as db:
            for key, _, _ in self._rules(keys):
                for _attempt in range(3):
                    moved = db.execute(
                        update(SignInFailure)
                        .where(SignInFailure.key == key)
                        .values(
                            failures=case(
                                (SignInFailure.last_at < stale, 1),
                                else_=SignInFailure.failures + 1,
                            ),
                            last_at=now,
                        )
                    )
                    if moved.rowcount == 1:  # type: ignore[attr-defined]
                        db.commit()
                        break
                    db.add(SignInFailure(key=key, failures=1, last_at=now))
                    try:
                        db.commit()
                        break
                    except IntegrityError:  # another process inserted it first: count again
                        db.rollback()

    def succeeded(self, *keys: str) -> None:
        """A successful sign-in clears the user's and the pair's counts (not the address's)."""
        addresses = {_digest(k) for k in keys if k.startswith("addr:")}
        cleared = [key for key, _, _ in self._rules(keys) if key not in addresses]
        with self.sessionmaker() as db:
            db.execute(delete(SignInFailure).where(SignInFailure.key.in_(cleared)))
            db.commit()
