"""A throwaway PostgreSQL 15 server on loopback, for the test set-up and the benchmarks.

``temporary_server()`` runs ``initdb`` into a new folder under the system temporary directory
(named ``rhabdo-pg-*``), starts the server on a free 127.0.0.1 port with its unix socket in the
same folder, and stops it and removes the folder on exit, whatever happened.  When the caller is
root the server runs as the ``postgres`` system user (PostgreSQL refuses to run as root).

A server left behind by a killed process is stopped with
``runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D <folder>/data -m immediate stop``.
Nothing here is used by the running service.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: Seconds any one ``initdb``/``pg_ctl`` call may take before it is abandoned.
COMMAND_TIMEOUT_S = 120


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL 15 server binaries are not installed on this machine."""


@dataclass(frozen=True)
class TemporaryPostgres:
    """A running server: its folder, its port, and the admin database's SQLAlchemy URL."""

    root: Path
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://rhabdo@127.0.0.1:{self.port}/postgres"

    def new_database(self, name: str | None = None) -> str:
        """Create an empty database on this server; its SQLAlchemy URL."""
        return create_database(self.admin_url, name)


def create_database(admin_url: str, name: str | None = None) -> str:
    """Create an empty database (default: a random ``t_...`` name) on the server of
    ``admin_url``; its SQLAlchemy URL."""
    import psycopg

    name = name or "t_" + uuid.uuid4().hex[:12]
    if not name.replace("_", "").isalnum():
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    conninfo = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as(user: pwd.struct_passwd | None, argv: list[str]) -> None:
    if user is not None:
        argv = ["runuser", "-u", user.pw_name, "--", *argv]
    subprocess.run(argv, check=True, capture_output=True, timeout=COMMAND_TIMEOUT_S)


@contextmanager
def temporary_server(server_options: Sequence[str] = ()) -> Iterator[TemporaryPostgres]:
    """Start a PostgreSQL 15 server (extra ``-c name=value`` options in ``server_options``);
    stop it and delete its files on exit."""
    if not (PG_BIN / "initdb").exists():
        raise PostgresUnavailable(f"PostgreSQL 15 server binaries are absent ({PG_BIN}/initdb)")
    runner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="rhabdo-pg-"))
    data = root / "data"
    pg_ctl = str(PG_BIN / "pg_ctl")
    started = False
    try:
        if runner is not None:
            os.chown(root, runner.pw_uid, runner.pw_gid)
        _run_as(
            runner,
            [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "rhabdo", "-E", "UTF8"],
        )
        port = free_port()
        opts = " ".join(
            [f"-p {port} -k {root} -c listen_addresses=127.0.0.1"]
            + [f"-c {option}" for option in server_options]
        )
        started = True
        log = str(root / "log")
        _run_as(runner, [pg_ctl, "-D", str(data), "-o", opts, "-l", log, "-w", "start"])
        yield TemporaryPostgres(root=root, port=port)
    finally:
        if started:
            try:
                _run_as(runner, [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
            except (subprocess.SubprocessError, OSError):
                _run_as(runner, [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)
