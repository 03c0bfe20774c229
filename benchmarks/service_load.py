"""Closed-loop load on the signed-in service, with a discovery probe (issue 16).

Target: 50 concurrent signed-in clients on the assessment API plus 20 concurrent PDF
downloads for 30 s, while an unauthenticated CDS discovery probe runs once a second: zero
errors, and the probe never waits more than 2 s.

What it does, for each database asked for (SQLite file, and PostgreSQL 15 started in a
temporary folder from /usr/lib/postgresql/15/bin):
* starts ``rhabdo serve`` (uvicorn, ``--workers`` processes) on a free 127.0.0.1 port;
* creates a clinician, stores the example cases, and signs ``--clients`` + ``--pdf-clients``
  browser sessions in (each session keeps its cookie and sends its CSRF header);
* each assessment client loops: read a stored case's assessment, then assess a case without
  storing it; each PDF client loops downloading a report; every client waits for its answer
  before sending the next request (closed loop);
* prints requests/s, p50 and p99 per kind, errors, and the probe's slowest answer.

Bounded: ``--seconds`` per database, a fixed number of clients, loopback only.  Run:
``.venv/bin/python benchmarks/service_load.py [--seconds 30] [--databases sqlite postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _loadkit import percentile, wait_until_listening

from rhabdo.service.pgserver import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load test password 2026"
PROBE_LIMIT_S = 2.0
REQUEST_TIMEOUT_S = 60.0
#: The end of the last server's log, printed when a run had errors.
SERVER_LOG_TAIL: list[str] = []
#: The event loop's "Executing <callback> took 0.123 seconds" lines (``--asyncio-debug``).
SLOW_CALLBACKS: list[str] = []
SLOW_CALLBACK = re.compile(r"Executing .* took (\d+\.\d+) seconds")


@contextmanager
def postgres() -> Iterator[str]:
    """A temporary PostgreSQL 15 server on loopback; yields the URL of a new database."""
    from rhabdo.service.pgserver import PostgresUnavailable, temporary_server

    try:
        with temporary_server(["max_connections=200"]) as pg:
            yield pg.new_database("bench")
    except PostgresUnavailable as exc:
        raise SystemExit(str(exc)) from None


def _examples() -> list[dict[str, Any]]:
    import yaml

    docs = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        docs.append(json.loads(json.dumps(yaml.safe_load(path.read_text("utf-8")), default=str)))
    return docs


def prepare(url: str) -> None:
    """Schema and the benchmark's clinician."""
    from rhabdo.service import store
    from rhabdo.service.db import make_engine, make_sessionmaker
    from rhabdo.service.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        store.create_user(db, "bench", PASSWORD, store.Role.CLINICIAN)
    engine.dispose()


@contextmanager
def server(url: str, workdir: Path, workers: int, asyncio_debug: bool = False) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        RHABDO_ENV="testing",
        RHABDO_SECRET_KEY=uuid.uuid4().hex * 2,
        RHABDO_DATABASE_URL=url,
        RHABDO_BASE_URL=f"http://127.0.0.1:{port}",
        RHABDO_COOKIE_SECURE="false",
    )
    if asyncio_debug:
        # The event loop logs every callback that holds it longer than 100 ms.
        env["PYTHONASYNCIODEBUG"] = "1"
    cmd = [str(Path(sys.executable).parent / "rhabdo"), "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--no-migrate"]
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, port, workdir / "server.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        lines = (workdir / "server.log").read_text(errors="replace").splitlines()
        SERVER_LOG_TAIL[:] = lines[-40:]
        SLOW_CALLBACKS[:] = [line for line in lines if SLOW_CALLBACK.search(line)]


async def _session(http: Any) -> str:
    """Sign a browser in; return its session CSRF token."""
    page = (await http.get("/signin")).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    done = await http.post(
        "/signin", data={"username": "bench", "password": PASSWORD, "csrf_token": token[1]}
    )
    if done.status_code != 303:
        raise SystemExit(f"sign-in failed: HTTP {done.status_code}")
    cases = (await http.get("/cases")).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', cases)
    assert csrf, "no CSRF token after sign-in"
    return csrf[1]


async def run(base: str, seconds: float, clients: int, pdf_clients: int) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    browsers = [
        httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout)
        for _ in range(clients + pdf_clients)
    ]
    tokens = [await _session(b) for b in browsers]
    examples = _examples()
    ids = []
    for doc in examples:
        made = await browsers[0].post(
            "/api/v1/cases", json={"case": doc}, headers={"X-CSRF-Token": tokens[0]}
        )
        if made.status_code != 201:
            raise SystemExit(
                f"storing an example failed: HTTP {made.status_code} {made.text[:200]}"
            )
        ids.append(made.json()["id"])
    # Warm-up: each stored version's PDF once (a first render is slow; later downloads of the
    # same version are served from the per-day render cache).
    cold: list[float] = []
    for case_id in ids:
        for _ in range(3):  # fresh connections, so each worker process is likely to render it
            t = time.perf_counter()
            async with httpx.AsyncClient(base_url=base, timeout=timeout) as fresh:
                fresh.cookies.update(browsers[0].cookies)
                r = await fresh.get(f"/api/v1/cases/{case_id}/report.pdf")
            if r.status_code != 200:
                raise SystemExit(f"warm-up PDF failed: HTTP {r.status_code}")
            cold.append((time.perf_counter() - t) * 1000)
    times: dict[str, list[float]] = {"assessment": [], "assess": [], "pdf": []}
    errors: list[str] = []
    probe: list[float] = []
    stop = time.monotonic() + seconds

    async def assessor(n: int) -> None:
        http, csrf, i = browsers[n], tokens[n], n
        while time.monotonic() < stop:
            i += 1
            kind = "assessment" if i % 2 else "assess"
            t = time.perf_counter()
            try:
                if kind == "assessment":
                    r = await http.get(f"/api/v1/cases/{ids[i % len(ids)]}/assessment")
                else:
                    r = await http.post(
                        "/api/v1/assess",
                        json={"case": examples[i % len(examples)]},
                        headers={"X-CSRF-Token": csrf},
                    )
                ok = r.status_code == 200
                status = str(r.status_code)
            except httpx.HTTPError as exc:
                ok, status = False, type(exc).__name__
            times[kind].append((time.perf_counter() - t) * 1000)
            if not ok:
                errors.append(f"{kind}:{status}")

    async def downloader(n: int) -> None:
        http, i = browsers[n], n
        while time.monotonic() < stop:
            i += 1
            t = time.perf_counter()
            try:
                r = await http.get(f"/api/v1/cases/{ids[i % len(ids)]}/report.pdf")
                ok, status = r.status_code == 200 and r.content[:4] == b"%PDF", str(r.status_code)
            except httpx.HTTPError as exc:
                ok, status = False, type(exc).__name__
            times["pdf"].append((time.perf_counter() - t) * 1000)
            if not ok:
                errors.append(f"pdf:{status}")

    async def prober() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=timeout) as http:
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    r = await http.get("/cds-services")
                    if r.status_code != 200:
                        errors.append(f"probe:{r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"probe:{type(exc).__name__}")
                waited = time.perf_counter() - t
                probe.append(waited)
                await asyncio.sleep(max(0.0, 1.0 - waited))

    started = time.perf_counter()
    tasks = [assessor(n) for n in range(clients)]
    tasks += [downloader(clients + n) for n in range(pdf_clients)]
    await asyncio.wait_for(
        asyncio.gather(*tasks, prober()), timeout=seconds + REQUEST_TIMEOUT_S + 30
    )
    wall = time.perf_counter() - started
    for b in browsers:
        await b.aclose()
    return {"times": times, "errors": errors, "probe": probe, "wall": wall, "cold": cold}


def report(name: str, result: dict[str, Any], workers: int) -> bool:
    wall, errors, probe = result["wall"], result["errors"], result["probe"]
    total = sum(len(v) for v in result["times"].values())
    print(
        f"== {name}: {workers} worker(s), {wall:.1f} s, {total} requests, {total / wall:.1f} req/s"
    )
    for kind, values in result["times"].items():
        if values:
            print(
                f"   {kind:<10} n={len(values):<6} {len(values) / wall:6.1f}/s  "
                f"p50={percentile(values, 50):7.1f} ms  p99={percentile(values, 99):7.1f} ms  "
                f"max={max(values):7.1f} ms"
            )
    cold = result["cold"]
    print(f"   warm-up PDF downloads (serial, cold or cached): max {max(cold):.0f} ms")
    slowest = max(probe) if probe else float("inf")
    print(f"   discovery probe: {len(probe)} probes, slowest {slowest * 1000:.0f} ms")
    print(f"   errors: {len(errors)}" + (f" {sorted(set(errors))}" if errors else ""))
    if result.get("asyncio_debug"):
        slow = sorted(
            ((float(m[1]), line) for line in SLOW_CALLBACKS if (m := SLOW_CALLBACK.search(line))),
            reverse=True,
        )
        print(
            f"   event loop held > 100 ms (asyncio debug): {len(slow)} times"
            + (f", longest {slow[0][0] * 1000:.0f} ms" if slow else "")
        )
        for _, line in slow[:3]:
            print(f"      {line[:300]}")
    clean = not errors and slowest <= PROBE_LIMIT_S
    if errors:
        print("   server log (end):\n      " + "\n      ".join(SERVER_LOG_TAIL))
    print(f"   target (no errors, probe <= {PROBE_LIMIT_S:.0f} s): {'PASS' if clean else 'FAIL'}")
    return clean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pdf-clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--asyncio-debug",
        action="store_true",
        help="run the server's event loop in debug mode and report callbacks holding it > 100 ms",
    )
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    args = parser.parse_args()
    if not (0 < args.seconds <= 600 and 0 < args.clients <= 200 and 0 <= args.pdf_clients <= 100):
        raise SystemExit("--seconds 1..600, --clients 1..200, --pdf-clients 0..100")
    verdicts = []
    for name in args.databases:
        with tempfile.TemporaryDirectory(prefix="rhabdo-bench-") as tmp:
            workdir = Path(tmp)
            with postgres() if name == "postgres" else _sqlite(workdir) as url:
                prepare(url)
                with server(url, workdir, args.workers, args.asyncio_debug) as base:
                    result = asyncio.run(run(base, args.seconds, args.clients, args.pdf_clients))
                result["asyncio_debug"] = args.asyncio_debug
            verdicts.append(report(name, result, args.workers))
    load1, load5, _ = os.getloadavg()
    print(f"machine load average: {load1:.1f} (1 min), {load5:.1f} (5 min), {os.cpu_count()} CPUs")
    if not all(verdicts):
        sys.exit(1)


@contextmanager
def _sqlite(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'bench.sqlite3'}"


if __name__ == "__main__":
    main()
