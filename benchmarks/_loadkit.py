"""Pieces the load benchmarks share (not a benchmark itself: `make bench` skips `_*.py`)."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def wait_until_listening(
    proc: subprocess.Popen[bytes], port: int, log: Path, seconds: float = 60.0
) -> None:
    """Return once the server accepts connections on ``port``; otherwise stop it and exit with
    the end of its ``log``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            exited = proc.poll() is not None
            if exited or time.monotonic() > deadline:
                if not exited:
                    proc.terminate()
                tail = log.read_text(errors="replace")[-2000:]
                why = "failed to start" if exited else f"did not start within {seconds:.0f} s"
                raise SystemExit(f"server {why}:\n{tail}") from None
            time.sleep(0.2)
