"""`benches/run variables`: what the way Spin is given its variables costs. The service and the
naive peer are each served twice from one Redis, once with every variable from the environment
(SPIN_VARIABLE_*, Spin's env provider) and once from one file (`spin up --variable
@variables.json`, Spin's static provider), and the four apps are driven in interleaved rounds of
the same wrk runs as `ratios`: the session read by header, and the peer's GET /get_session/{id}.
Spin resolves every declared variable when an instance opens Redis, and each `{{ name }}` a
component reads; the env provider blocks a runtime worker for each resolution."""

import json
from dataclasses import dataclass, field

from .redis_client import RedisServer
from .settings import NAIVE_DIR, ROUNDS, SERVICE_MANIFEST
from .spin import SpinApp, build_service, cargo_build, manifest_with_absolute_source, spin_bin, spin_version
from .system import Scratch, cpu_seconds_of_tree, log
from .workloads import JSON
from .wrk import run_wrk

DELIVERIES = ("env", "file")


@dataclass
class DeliveryApp:
    label: str
    delivery: str
    app: SpinApp
    path: str = ""
    headers: dict = field(default_factory=dict)
    rates: list = field(default_factory=list)    # req/s per round
    cpu_us: list = field(default_factory=list)   # Spin CPU µs per request per round


class Delivery:
    def __init__(self):
        self.scratch = Scratch("user-session-variables-")
        self.workdir = self.scratch.workdir
        self.apps = []

    def run(self):
        service_wasm = build_service()
        log("building the naive peer")
        cargo_build(NAIVE_DIR)
        spin = spin_bin()
        self.spin_version = spin_version(spin)
        redis = self.scratch.keep(RedisServer(self.workdir, "redis"))
        for delivery in DELIVERIES:
            for label, manifest, wasm in (("service", SERVICE_MANIFEST, service_wasm),
                                          ("naive peer", NAIVE_DIR / "spin.toml", None)):
                name = f"{label.split()[0]}-{delivery}"
                m, _ = manifest_with_absolute_source(manifest, self.workdir, name, wasm)
                app = self.scratch.keep(SpinApp(spin, m, redis, name, variables_from=delivery))
                self.apps.append(DeliveryApp(label, delivery, app))
        # One session of each kind, written through the service, read by every app.
        service = self.apps[0].app
        uid = service.call("POST", "/v1/users", json.dumps({"nom": "Doe", "prenom": "John"}), JSON, (201,))["id"]
        token = service.call("POST", "/v1/sessions", json.dumps({"user_id": uid, "data": {"theme": "sombre"}}),
                             JSON, (201,))["id"]
        service.call("POST", "/create_session", json.dumps({"session_id": "bench-variables", "data": {"theme": "sombre"}}),
                     JSON, (201,))
        for a in self.apps:
            if a.label == "service":
                a.path, a.headers = "/v1/session", {"X-Session-Token": token}
            else:
                a.path = "/get_session/bench-variables"
            a.app.call("GET", a.path, None, a.headers)
        self.measure()

    def measure(self):
        for r in range(ROUNDS):
            shift = r % len(self.apps)   # every app at each place in turn: a drift favours none
            for a in self.apps[shift:] + self.apps[:shift]:
                before = cpu_seconds_of_tree(a.app.proc.pid)
                result = run_wrk(self.workdir, a.app.url, "GET", a.path, None, a.headers)
                after = cpu_seconds_of_tree(a.app.proc.pid)
                if result.non2xx or result.errors:
                    log(f"WARNING {a.app.name}: {result.non2xx} non-2xx answers, {result.errors} socket errors")
                a.rates.append(result.rate)
                a.cpu_us.append((after - before) * 1e6 / max(result.requests, 1))
            log(f"round {r + 1}/{ROUNDS}: " + ", ".join(f"{a.app.name} {a.rates[-1]:.0f} req/s" for a in self.apps))

    def app(self, label, delivery):
        return next(a for a in self.apps if a.label == label and a.delivery == delivery)

    def stop(self):
        self.scratch.stop()
