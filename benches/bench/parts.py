"""`benches/run parts`: what each part of a request costs, as Spin CPU per request, by A/B builds.
The service is built once as it is and once without each part (its `bench-skip-*` cargo features),
every build is served side by side with the naive peer and the probe, and each app's Spin CPU per
request is read from /proc around `wrk -t1 -c1` runs. The table is printed by `report`."""

import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass

from .redis_client import RedisServer
from .settings import DURATION, NAIVE_DIR, PROBE_DIR, ROOT, ROUNDS, SERVICE_MANIFEST
from .spin import SpinApp, cargo_build, component_variables, manifest_with_absolute_source, spin_bin, spin_version
from .system import Scratch, cpu_seconds_of_tree, log
from .workloads import JSON, probe_header

PARTS_PREFIX = "bench-skip-"   # the service's cargo features that build it without one part
PARTS_TOKEN = "bench-parts-token"   # api_token is set, as an exposed deployment must set it
PARTS_TARGET_DIR = ROOT / "target" / "bench-parts"   # never the wasm that `spin up --build` serves


def parts():
    """Each part and the feature that leaves it out, in Cargo.toml's order: `bench-skip-access-log`
    is the part "access log"."""
    features = tomllib.loads((ROOT / "Cargo.toml").read_text()).get("features", {})
    found = [(f.removeprefix(PARTS_PREFIX).replace("-", " "), f) for f in features if f.startswith(PARTS_PREFIX)]
    if not found:
        raise RuntimeError(f"Cargo.toml has no {PARTS_PREFIX}* feature: nothing to measure")
    return found


@dataclass
class PartsApp:
    label: str
    app: SpinApp
    requests: dict            # request kind → (path, headers)


class Parts:
    """Builds the service once as it is and once without each part, serves every build side by side
    with the naive peer and the probe for reference, and measures each build's Spin CPU per request
    in interleaved rounds of `wrk -t1 -c1`."""

    KINDS = [("get_user", "GET /get_user/{id}"), ("404", "GET /unknown/path (404)")]

    def __init__(self):
        self.scratch = Scratch("user-session-parts-")
        self.workdir = self.scratch.workdir
        self.apps = []

    def run(self):
        spin = spin_bin()
        self.spin_version = spin_version(spin)
        redis = self.scratch.keep(RedisServer(self.workdir, "redis"))
        overrides = {"redis_address": redis.url, "api_token": PARTS_TOKEN}
        manifest = SERVICE_MANIFEST
        baked = "\x1e".join(f"{k}\x1f{v}" for k, v in component_variables(manifest, overrides).items())
        self.parts = parts()
        builds = [("service, every part", None)] + [(f"without {part}", feature) for part, feature in self.parts]
        wasms = [(label, self.build(feature, baked)) for label, feature in builds]
        log("building the naive peer and the probe")
        for directory in (NAIVE_DIR, PROBE_DIR):
            cargo_build(directory)

        auth = {"Authorization": f"Bearer {PARTS_TOKEN}"}
        for i, (label, wasm) in enumerate(wasms):
            m, _ = manifest_with_absolute_source(manifest, self.workdir, f"service-{i}", wasm)
            app = self.scratch.keep(SpinApp(spin, m, redis, label, {"api_token": PARTS_TOKEN}))
            self.apps.append(PartsApp(label, app, {}))
        # One user, written by the service, read by every app (the naive peer reads the same key).
        uid = self.apps[0].app.call("POST", "/create_user", '{"nom":"Doe","prenom":"John"}', dict(JSON, **auth),
                                    (201,))["user_id"]
        for a in self.apps:
            a.requests = {"get_user": (f"/get_user/{uid}", auth), "404": ("/bench/no/such/path", auth)}
        m, _ = manifest_with_absolute_source(NAIVE_DIR / "spin.toml", self.workdir, "naive")
        naive = self.scratch.keep(SpinApp(spin, m, redis, "naive"))
        self.apps.append(PartsApp("naive peer (benches/naive)", naive,
                                  {"get_user": (f"/get_user/{uid}", {}), "404": ("/bench/no/such/path", {})}))
        m, _ = manifest_with_absolute_source(PROBE_DIR / "spin.toml", self.workdir, "probe")
        probe = self.scratch.keep(SpinApp(spin, m, redis, "probe"))
        command = {"probe-command": probe_header([[b"GET", b"user:%d" % uid]])}
        self.apps.append(PartsApp("probe (/redis: one GET; /now)", probe,
                                  {"get_user": ("/redis", command), "404": ("/now", {})}))
        for a in self.apps:  # every app answers as expected before anything is timed
            for kind, (path, headers) in a.requests.items():
                status, body = a.app.request("GET", path, None, headers)
                if (status == 200) != (kind == "get_user"):
                    raise RuntimeError(f"{a.label}: GET {path} answered {status}: {body[:200]!r}")
        self.measure()

    def build(self, feature, baked):
        log(f"building the service{' with ' + feature if feature else ''} ({PARTS_TARGET_DIR})")
        env = dict(os.environ, BENCH_SPIN_VARIABLES=baked)
        cargo_build(ROOT, "--target-dir", str(PARTS_TARGET_DIR), *(["--features", feature] if feature else []), env=env)
        out = self.workdir / f"{feature or 'service'}.wasm"
        shutil.copyfile(PARTS_TARGET_DIR / "wasm32-wasip1" / "release" / "user_session_service.wasm", out)
        return out

    def stop(self):
        self.scratch.stop()

    def measure(self):
        # µs[label][kind] = per round
        self.us = {a.label: {kind: [] for kind, _ in self.KINDS} for a in self.apps}
        for r in range(ROUNDS):
            for kind, name in self.KINDS:
                # Every app goes at a different place in each round, so that a drift of the
                # machine's speed favours none.
                shift = r * len(self.apps) // ROUNDS % len(self.apps)
                order = self.apps[shift:] + self.apps[:shift]
                for a in order:
                    path, headers = a.requests[kind]
                    cmd = ["wrk", "-t1", "-c1", f"-d{DURATION}s"]
                    for k, v in headers.items():
                        cmd += ["-H", f"{k}: {v}"]
                    before = cpu_seconds_of_tree(a.app.proc.pid)
                    out = subprocess.run(cmd + [a.app.url + path], capture_output=True, text=True, check=True).stdout
                    after = cpu_seconds_of_tree(a.app.proc.pid)
                    requests = int(re.search(r"(\d+) requests in", out).group(1))
                    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                    non2xx = int(m.group(1)) if m else 0
                    if (kind == "404" and non2xx != requests) or (kind != "404" and non2xx):
                        log(f"WARNING {a.label} {name}: {non2xx} of {requests} answers were not the expected status")
                    self.us[a.label][kind].append((after - before) * 1e6 / max(requests, 1))
                log(f"round {r + 1}/{ROUNDS} {name}: " + ", ".join(
                    f"{self.us[a.label][kind][-1]:.0f}" for a in self.apps) + " µs/req")
