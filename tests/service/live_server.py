"""Real ``rhabdo`` server processes (uvicorn on loopback) for tests that need real concurrency.

``LiveServer`` starts ``uvicorn`` with the app factory ``app_from_env`` in a subprocess, with
settings passed as ``RHABDO_*`` variables, waits until the discovery endpoint answers and stops
the process (SIGTERM, then SIGKILL) on ``stop``.  Imported by name; tests/ is not a package.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from service_helpers import ISSUER

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(
    db_url: str, tmp: Path, jwks: dict[str, Any] | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a test server: testing mode, a fixed secret, one trusted issuer."""
    env = dict(os.environ)
    env.update(
        RHABDO_ENV="testing",
        RHABDO_SECRET_KEY="t" * 48,
        RHABDO_DATABASE_URL=db_url,
        RHABDO_COOKIE_SECURE="false",
        PYTHONPATH=str(SRC),
    )
    if jwks is not None:
        issuers = tmp / "issuers.json"
        issuers.write_text(json.dumps({"issuers": [{"issuer": ISSUER, "jwks": jwks}]}), "utf-8")
        env["RHABDO_CDS_ISSUERS_FILE"] = str(issuers)
    env.update(extra)
    return env


class LiveServer:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = dict(env)
        env.setdefault("RHABDO_BASE_URL", self.base_url)
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import uvicorn; uvicorn.run('rhabdo.service.app:app_from_env', factory=True, "
                f"host='127.0.0.1', port={self.port}, log_level='warning', "
                "timeout_graceful_shutdown=5)",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        for _ in range(300):
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.base_url + "/cds-services", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def stop(self, grace_s: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after ``grace_s``; the exit code after SIGTERM, or None if
        the process had to be killed."""
        code: int | None = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        else:
            code = self.proc.returncode
        self._log.close()
        return code
