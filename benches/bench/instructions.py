"""`benches/run instructions`: the instructions Spin runs per request, counted by valgrind's
callgrind in Spin's trigger process, for the service and the naive peer side by side.

Requests per second move with whatever else the machine does (rounds of the same run differ by
15% on our 2-core machines), so a change worth a few percent is lost in them. An instruction count
is not: the same `.wasm`, request and Spin give the same count within 0.1%, busy machine or not.
It counts what Spin's process runs in user space, the component's compiled wasm included; the
kernel's side of system calls (sockets, the access log's writes) is not in it. Throughput figures
still come from `ratios`; this says where a gap comes from, and whether a change closed it."""

import http.client
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .redis_client import RedisServer
from .settings import NAIVE_DIR
from .spin import SpinApp, cargo_build, manifest_with_absolute_source, service_manifest, spin_bin, spin_version
from .system import Scratch, children, log
from .workloads import JSON

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))   # counted requests per case and app
WARM_UP = 20                                               # uncounted requests before them


@dataclass
class Case:
    name: str
    service: tuple      # (path, headers)
    peer: tuple
    status: int
    counts: dict = field(default_factory=dict)   # app name -> instructions per request


class Instructions:
    def __init__(self):
        self.scratch = Scratch("user-session-instructions-")
        self.workdir = self.scratch.workdir
        self.cases = []

    def run(self):
        for tool in ("valgrind", "callgrind_control"):
            if not shutil.which(tool):
                raise RuntimeError(f"`instructions` needs {tool} (Debian: apt-get install valgrind)")
        service_m, _ = service_manifest(self.workdir, "service")
        log("building the naive peer")
        cargo_build(NAIVE_DIR)
        spin = spin_bin()
        self.spin_version = spin_version(spin)
        redis = self.scratch.keep(RedisServer(self.workdir, "redis"))
        log("starting both apps under callgrind (Spin compiles each component under valgrind: a minute or two)")
        apps = {}
        for name, m in (("service", service_m),
                        ("naive peer", manifest_with_absolute_source(NAIVE_DIR / "spin.toml", self.workdir, "naive")[0])):
            wrapper = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--smc-check=all-non-file",
                       f"--callgrind-out-file={m.parent}/callgrind.%p.out"]
            apps[name] = self.scratch.keep(SpinApp(spin, m, redis, name, wrapper=wrapper, start_seconds=900))
        service = apps["service"]
        # Data written through the service's API, read by both apps (the peer reads the keys the
        # original endpoints use).
        uid = service.call("POST", "/create_user", json.dumps({"nom": "Doe", "prenom": "John"}), JSON, (201,))["user_id"]
        v1_uid = service.call("POST", "/v1/users", json.dumps({"nom": "Doe", "prenom": "Jane"}), JSON, (201,))["id"]
        token = service.call("POST", "/v1/sessions", json.dumps({"user_id": v1_uid, "data": {"theme": "sombre"}}),
                             dict(JSON, **{"User-Agent": "Mozilla/5.0 (bench)"}), (201,))["id"]
        service.call("POST", "/create_session", json.dumps({"session_id": "bench-instructions", "data": {"theme": "sombre"}}),
                     JSON, (201,))
        self.cases = [
            Case("session read: GET /v1/session (peer: GET /get_session/{id})",
                 ("/v1/session", {"X-Session-Token": token}), ("/get_session/bench-instructions", {}), 200),
            Case("GET /get_user/{id}", (f"/get_user/{uid}", {}), (f"/get_user/{uid}", {}), 200),
            Case("GET /bench/no/such/path (404)", ("/bench/no/such/path", {}), ("/bench/no/such/path", {}), 404),
        ]
        for case in self.cases:
            for name, app in apps.items():
                path, headers = case.service if name == "service" else case.peer
                case.counts[name] = count(app, path, headers, case.status)
                log(f"{case.name}, {name}: {case.counts[name]:,.0f} instructions per request")

    def stop(self):
        self.scratch.stop()


def count(app, path, headers, status):
    """Instructions per request of `app`'s trigger process over REQUESTS requests on one
    connection, between two callgrind dumps (the first zeroes the counters)."""
    trigger = trigger_pid(app.proc.pid)
    send(app, path, headers, status, WARM_UP)
    subprocess.run(["callgrind_control", "--zero", str(trigger)], check=True, capture_output=True)
    send(app, path, headers, status, REQUESTS)
    dumps = Path(app.log.name).parent
    before = set(dumps.glob(f"callgrind.{trigger}.out*"))
    subprocess.run(["callgrind_control", "--dump", str(trigger)], check=True, capture_output=True)
    deadline = time.time() + 60
    while not (new := set(dumps.glob(f"callgrind.{trigger}.out*")) - before):
        if time.time() > deadline:
            raise RuntimeError(f"{app.name}: callgrind wrote no dump")
        time.sleep(0.2)
    return total_instructions(max(new, key=lambda p: p.stat().st_mtime)) / REQUESTS


def send(app, path, headers, status, n):
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=120)
    try:
        for _ in range(n):
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != status:
                raise RuntimeError(f"{app.name} GET {path}: {resp.status}, expected {status}: {body[:200]!r}")
    finally:
        conn.close()


def trigger_pid(pid):
    """`spin up` runs its trigger as a child process: the one that serves requests."""
    found = children(pid)
    if not found:
        raise RuntimeError(f"spin up (pid {pid}) has no trigger process")
    return found[0]


def total_instructions(dump):
    """The `summary:` (or `totals:`) line of a callgrind dump: instructions executed (Ir)."""
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"{dump}: no summary line")
