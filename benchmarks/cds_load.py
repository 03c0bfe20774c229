"""CDS Hooks patient-view under load on loopback: 500 requests/s offered for 60 s.

Target (issues 7 and 16): 500 requests/s offered, p99 latency under 100 ms and no errors on
this 2-core machine.  The run always ends with what it achieved (offered against answered
rate, latency from each request's due time and from its sending, errors, requests never
finished) and what limited it (CPU of the server and of the load generator, late starts).

What it does:
* starts ``rhabdo serve`` (uvicorn, 2 workers) on a free 127.0.0.1 port with a temporary SQLite
  database and a trusted CDS client whose EC P-384 public key is configured;
* builds patient-view requests for the example cases (prefetch = the FHIR export of each case,
  with server-style relative references) and signs one ES384 JWT per request (unique jti);
* sends them open-loop at a fixed rate (request i is due at i/rate s) over at most 64 keep-alive
  connections (a minimal asyncio HTTP/1.1 client, so the generator stays light),
  and prints throughput, latency percentiles, errors and the share of late starts;
* also prints the cost of an uncached call (a chart opened for the first time), measured
  in-process, because the service keeps recent assessments of unchanged FHIR data in memory.

Bounded: ``--rate`` x ``--seconds`` requests in total, loopback only.  Run:
``.venv/bin/python benchmarks/cds_load.py [--rate 500] [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _loadkit import percentile, wait_until_listening

from rhabdo.service.pgserver import free_port

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "https://ehr.bench.invalid/"
KID = "bench-key"
SERVICE = "rhabdo-patient-view"
REQUEST_TIMEOUT_S = 10.0
#: The offered rate the issue asks for (requests per second).
TARGET_RATE = 500


def _relative_refs(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    local = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if e.get("fullUrl")
    }

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (local.get(v, v) if k == "reference" and isinstance(v, str) else walk(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return [walk(e["resource"]) for e in bundle.get("entry", [])]


PREFETCH_KEYS = {
    "Condition": "conditions",
    "Observation": "observations",
    "Procedure": "procedures",
    "MedicationAdministration": "medicationAdministrations",
    "MedicationRequest": "medicationRequests",
    "CarePlan": "carePlans",
}


def build_requests() -> list[dict[str, Any]]:
    """One patient-view request per example case (synthetic data shipped in examples/)."""
    from rhabdo.case.io import load_case
    from rhabdo.interop.fhir_export import case_to_bundle

    bodies = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        resources = _relative_refs(case_to_bundle(load_case(path)))
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        prefetch: dict[str, Any] = {"patient": patient}
        for rtype, key in PREFETCH_KEYS.items():
            items = [r for r in resources if r["resourceType"] == rtype]
            prefetch[key] = (
                {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [{"resource": r} for r in items],
                }
                if items
                else None
            )
        bodies.append(
            {
                "hook": "patient-view",
                "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/bench", "patientId": patient["id"]},
                "prefetch": prefetch,
            }
        )
    return bodies


def uncached_cost_ms(bodies: list[dict[str, Any]]) -> float:
    """Median in-process time of FHIR import + assessment + cards for a first-time chart."""
    from types import SimpleNamespace

    from rhabdo.engine import assess
    from rhabdo.interop.fhir_import import case_from_bundle
    from rhabdo.service.cds import build_cards, gather_bundle

    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(fhir_transport=None)))
    times = []
    for _ in range(3):
        for body in bodies:
            t = time.perf_counter()
            imported = case_from_bundle(gather_bundle(request, body).bundle)  # type: ignore[arg-type]
            build_cards(
                assess(imported.case), source={"label": "x"}, assessment_url="u", unmapped_count=0
            )
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def start_server(
    port: int, workdir: Path, jwks: dict[str, Any], workers: int
) -> subprocess.Popen[bytes]:
    issuers = workdir / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"issuer": ISSUER, "jwks": jwks}]}))
    env = dict(os.environ)
    env.update(
        RHABDO_ENV="testing",
        RHABDO_SECRET_KEY=uuid.uuid4().hex * 2,
        RHABDO_DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        RHABDO_BASE_URL=f"http://127.0.0.1:{port}",
        RHABDO_COOKIE_SECURE="false",
        RHABDO_CDS_ISSUERS_FILE=str(issuers),
    )
    cmd = [
        str(Path(sys.executable).parent / "rhabdo"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # The server's log goes to a file: an unread pipe would fill up and stall the server.
    log = (workdir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_until_listening(proc, port, workdir / "server.log")
    return proc


class _Connection:
    """One keep-alive HTTP/1.1 connection (a minimal client: the load generator must stay
    cheap, or it competes with the server for the machine's two cores).  It reconnects
    lazily after an error, so a failed request never removes a connection from the pool."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        content = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, content


@dataclass
class LoadResult:
    """What an open-loop run achieved.  Latency counts from when a request was *due*, so time
    spent waiting for a free connection (the client's bound on requests in flight) is part of
    it; ``service_ms`` counts from when it was written to the connection."""

    offered: int
    schedule_s: float
    wall_s: float
    latency_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    late_starts: int = 0
    unfinished: int = 0
    generator_cpu_s: float = 0.0


async def run_load(
    url: str,
    bodies: list[dict[str, Any]],
    tokens: list[str],
    rate: float,
    max_in_flight: int,
    grace_s: float = REQUEST_TIMEOUT_S,
) -> LoadResult:
    """Send ``tokens`` requests, request i due at i/rate s; then wait at most ``grace_s`` for
    the ones still queued or in flight, and count what never finished (no exception ends it)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    payloads = [json.dumps(b).encode() for b in bodies]
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(max_in_flight):
        pool.put_nowait(_Connection(host, port))
    result = LoadResult(offered=len(tokens), schedule_s=len(tokens) / rate, wall_s=0.0)
    cpu_start = time.process_time()

    async def one(i: int, due: float) -> None:
        conn = await pool.get()
        sent = time.perf_counter()
        finished = False
        try:
            status, content = await asyncio.wait_for(
                conn.post(path, payloads[i % len(payloads)], tokens[i]), timeout=REQUEST_TIMEOUT_S
            )
            finished = True
            if status != 200 or b'"cards"' not in content:
                result.errors.append(f"HTTP {status}")
        except Exception as exc:  # every failure is counted, none stops the run
            finished = True
            result.errors.append(type(exc).__name__)
            conn.close()
        finally:  # a request cancelled after the grace period counts as unfinished only
            if finished:
                done = time.perf_counter()
                result.latency_ms.append((done - due) * 1000)
                result.service_ms.append((done - sent) * 1000)
            else:
                conn.close()
            pool.put_nowait(conn)

    start = time.perf_counter()
    tasks = []
    for i in range(len(tokens)):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.01:
            result.late_starts += 1
        tasks.append(asyncio.create_task(one(i, due)))
    _, pending = await asyncio.wait(tasks, timeout=grace_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    result.unfinished = len(pending)
    result.wall_s = time.perf_counter() - start
    result.generator_cpu_s = time.process_time() - cpu_start
    while not pool.empty():
        pool.get_nowait().close()
    return result


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its children still running
    (uvicorn's worker processes), from /proc; 0 where /proc is absent."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0.0
    for p in pids:
        try:
            fields_ = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields_[11]) + int(fields_[12])) / tick
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument(
        "--alg",
        choices=["ES384", "RS384"],
        default="ES384",
        help="JWT signing algorithm of the CDS client (the spec recommends both).",
    )
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    if not 0 < total <= 100_000:
        raise SystemExit("--rate x --seconds must be between 1 and 100000 requests")

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key: Any
    if args.alg == "ES384":
        key = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update(kid=KID, use="sig", alg=args.alg)
    bodies = build_requests()
    port = free_port()
    aud = f"http://127.0.0.1:{port}/cds-services/{SERVICE}"
    now = int(time.time())
    lifetime = int(args.seconds) + 300
    tokens = [
        jwt.encode(
            {
                "iss": ISSUER,
                "aud": aud,
                "iat": now,
                "exp": now + lifetime,
                "jti": str(uuid.uuid4()),
            },
            key,
            algorithm=args.alg,
            headers={"kid": KID, "typ": "JWT"},
        )
        for _ in range(total)
    ]
    cold_ms = uncached_cost_ms(bodies)
    print(f"uncached call (FHIR import + assess + cards, in-process median): {cold_ms:.1f} ms")
    with tempfile.TemporaryDirectory(prefix="rhabdo-bench-") as tmp:
        proc = start_server(port, Path(tmp), {"keys": [public]}, args.workers)
        try:
            import httpx

            for body in bodies:  # warm-up: one call per patient (first-time charts)
                tok = jwt.encode(
                    {
                        "iss": ISSUER,
                        "aud": aud,
                        "iat": now,
                        "exp": now + 600,
                        "jti": str(uuid.uuid4()),
                    },
                    key,
                    algorithm=args.alg,
                    headers={"kid": KID, "typ": "JWT"},
                )
                for _ in range(args.workers * 2):
                    tok = jwt.encode(
                        {
                            "iss": ISSUER,
                            "aud": aud,
                            "iat": now,
                            "exp": now + 600,
                            "jti": str(uuid.uuid4()),
                        },
                        key,
                        algorithm=args.alg,
                        headers={"kid": KID, "typ": "JWT"},
                    )
                    r = httpx.post(
                        aud, json=body, headers={"Authorization": f"Bearer {tok}"}, timeout=30
                    )
                    if r.status_code != 200:
                        raise SystemExit(f"warm-up failed: HTTP {r.status_code} {r.text[:300]}")
            server_cpu_before = process_cpu_s(proc.pid)
            result = asyncio.run(
                run_load(aud, bodies, tokens, args.rate, args.max_in_flight, REQUEST_TIMEOUT_S)
            )
            server_cpu_s = process_cpu_s(proc.pid) - server_cpu_before
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
    sys.exit(report(result, args, len(bodies), server_cpu_s))


def report(result: LoadResult, args: argparse.Namespace, patients: int, server_cpu_s: float) -> int:
    """Print what the run achieved and what limited it; the exit status (0 when on target)."""
    answered = len(result.latency_ms) - len(result.errors)
    print(
        f"offered: {result.offered} requests at {args.rate:.0f}/s over {result.schedule_s:.1f} s "
        f"({patients} distinct patients, {args.workers} workers, JWT {args.alg}, "
        f"at most {args.max_in_flight} in flight, loopback)"
    )
    print(
        f"achieved: {answered} answered with cards in {result.wall_s:.1f} s = "
        f"{answered / result.wall_s:.1f}/s; errors {len(result.errors)}"
        + (f" ({', '.join(sorted(set(result.errors)))})" if result.errors else "")
        + f"; never finished within {REQUEST_TIMEOUT_S:.0f} s after the schedule: "
        f"{result.unfinished}"
    )
    if result.latency_ms:
        for name, values in (("from due time", result.latency_ms), ("service", result.service_ms)):
            print(
                f"latency ms ({name}): "
                + ", ".join(f"p{q}={percentile(values, q):.1f}" for q in (50, 90, 99))
                + f", max={max(values):.1f}"
            )
    print(f"late starts (generator >10 ms behind schedule): {result.late_starts}")
    cores = os.cpu_count() or 1
    load1, load5, _ = os.getloadavg()
    print(f"machine load average at the end: {load1:.1f} (1 min), {load5:.1f} (5 min)")
    server_share = server_cpu_s / result.wall_s if result.wall_s else 0.0
    client_share = result.generator_cpu_s / result.wall_s if result.wall_s else 0.0
    print(
        f"CPU: server processes {server_cpu_s:.1f} s = {server_share:.2f} cores, "
        f"load generator {result.generator_cpu_s:.1f} s = {client_share:.2f} cores, "
        f"of {cores}; per answered request the server spent "
        f"{1000 * server_cpu_s / max(answered, 1):.1f} ms CPU"
    )
    p99 = percentile(result.latency_ms, 99) if result.latency_ms else float("inf")
    on_target = not result.errors and not result.unfinished and p99 < 100
    cpu_per_answer_s = server_cpu_s / max(answered, 1)
    needed = cpu_per_answer_s * args.rate
    if needed > 0.9 * cores:
        limit = (
            f"the server's CPU: {1000 * cpu_per_answer_s:.1f} ms per answer x {args.rate:.0f}/s "
            f"needs {needed:.1f} cores; the machine has {cores}, shared with the load generator "
            f"(and with anything else running: load {load1:.1f})"
        )
    elif result.late_starts > result.offered // 100:
        limit = "the load generator (it could not keep the schedule)"
    elif server_share + client_share > 0.9 * cores or load1 > cores:
        limit = (
            f"the machine is shared: load average {load1:.1f} on {cores} CPUs, of which this "
            f"server got {server_share:.2f} cores"
        )
    else:
        limit = "not CPU: waiting (database commits, locks) or the client's in-flight bound"
    print(f"what limits it: {limit}")
    print(f"this run: p99 < 100 ms with no errors: {'yes' if on_target else 'no'}")
    reached = on_target and args.rate >= TARGET_RATE
    print(
        f"target {TARGET_RATE}/s offered, p99 < 100 ms, no errors: {'PASS' if reached else 'FAIL'}"
    )
    return 0 if reached else 1


if __name__ == "__main__":
    main()
