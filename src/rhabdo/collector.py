"""Pausing Python's cyclic garbage collector around allocation-heavy, cycle-free work.

Trial matching builds many small result objects that hold no reference cycles; letting the
cyclic collector run in the middle of that loop costs more than the loop and frees nothing.
The collector's on/off switch is global to the process, and the service assesses cases in
several worker threads at once, so the pause is counted: the collector is switched off when
the first pause begins and switched back on only when the last overlapping pause ends, and
only if it was on before.  (Reading ``gc.isenabled()`` and then calling ``gc.disable()`` in
each thread, without a lock, can leave the collector off for good: one thread reads "off"
while another is inside its pause, and the first thread's later ``enable`` comes before the
second's ``disable``.)
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_switch_on_after = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off; it is back as it was when every
    overlapping pause has ended (even if the block raises)."""
    global _pauses, _switch_on_after
    with _lock:
        if _pauses == 0:
            _switch_on_after = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _switch_on_after:
                gc.enable()
