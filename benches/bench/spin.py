"""Spin for the benchmark: finding the CLI, building a component, and serving a manifest with
`spin up` on a free port, its Redis address given as a Spin variable."""

import http.client
import json
import os
import re
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

from .settings import ROOT, SERVICE_MANIFEST, SERVICE_WASM, SHARED_SPIN_INSTALL, VARIABLES_FROM
from .system import free_port, log


def spin_bin():
    """SPIN_BIN, else Spin 4.0.2 from `../shared/spin/install` beside the repository (where our
    machines keep their Spin CLIs), else `spin` on the PATH."""
    if os.environ.get("SPIN_BIN"):
        return os.environ["SPIN_BIN"]
    if SHARED_SPIN_INSTALL.exists():
        return subprocess.run([str(SHARED_SPIN_INSTALL), "4.0.2"], check=True, capture_output=True, text=True).stdout.strip()
    if shutil.which("spin"):
        return shutil.which("spin")
    raise RuntimeError("no Spin CLI: set SPIN_BIN=/path/to/spin (https://spinframework.dev/install)")


def spin_version(spin):
    """What `spin --version` prints, for the reports' headers."""
    return subprocess.run([spin, "--version"], capture_output=True, text=True).stdout.strip()


def cargo_build(directory, *args, env=None):
    """`cargo build --target wasm32-wasip1 --release` of the crate in `directory` (a Spin component:
    Spin turns the core module into a component when it loads it)."""
    subprocess.run(["cargo", "build", "--target", "wasm32-wasip1", "--release", *args],
                   cwd=directory, env=env, check=True)


def manifest_with_absolute_source(manifest, workdir, name, wasm=None):
    """A copy of a spin.toml whose component `source` is an absolute path (or `wasm`)."""
    text = manifest.read_text()
    sources = re.findall(r'^\s*source\s*=\s*"([^"]+)"', text, flags=re.M)
    if len(sources) != 1:
        raise RuntimeError(f"{manifest}: expected one component source, found {len(sources)}")
    path = Path(wasm) if wasm else (manifest.parent / sources[0])
    text = re.sub(r'^(\s*source\s*=\s*)"[^"]+"', lambda m: f'{m.group(1)}"{path.resolve()}"', text, flags=re.M)
    out = workdir / name / "spin.toml"
    out.parent.mkdir()
    out.write_text(text)
    return out, path.resolve()


def build_service():
    """The service's wasm to serve: SERVICE_WASM if given, else None after a release build of the
    current source (its manifest's own `source`)."""
    if not SERVICE_WASM:
        log("building the service: cargo build --target wasm32-wasip1 --release")
        cargo_build(ROOT)
    return SERVICE_WASM


def service_manifest(workdir, name):
    """The service's manifest (SERVICE_MANIFEST) copied to `workdir/name`, its source the wasm of
    `build_service()`: (manifest, wasm)."""
    return manifest_with_absolute_source(SERVICE_MANIFEST, workdir, name, build_service())


class SpinApp:
    """`spin up` of one manifest on a free port, with its Redis address as a Spin variable.
    `wrapper` runs it under another command (`instructions`: valgrind), which may take
    `start_seconds` to answer."""

    def __init__(self, spin, manifest, redis, name, variables=None, variables_from=VARIABLES_FROM,
                 wrapper=(), start_seconds=120):
        self.port = free_port()
        self.name = name
        self.log = open(manifest.parent / "spin-up.log", "w")
        values = dict(variables or {}, redis_address=redis.url)
        env = dict(os.environ)
        args = [*wrapper, spin, "up", "-f", str(manifest), "--listen", f"127.0.0.1:{self.port}"]
        if variables_from == "file":
            path = manifest.parent / "variables.json"
            path.write_text(json.dumps(application_variables(manifest, values)))
            args += ["--variable", f"@{path}"]
        else:
            env.update({f"SPIN_VARIABLE_{k.upper()}": v for k, v in values.items()})
        self.proc = subprocess.Popen(args, cwd=manifest.parent, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + start_seconds
        while True:
            try:
                self.request("GET", "/__bench_ready__")
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"spin up of {name} did not start: see {self.log.name}")
                time.sleep(0.2)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def call(self, method, path, body=None, headers=None, expect=(200,)):
        """A request whose status must be one of `expect`: its JSON answer (None if not JSON)."""
        status, payload = self.request(method, path, body, headers)
        if status not in expect:
            raise RuntimeError(f"{method} {path}: {self.name} answered {status}, expected {expect}: {payload[:300]!r}")
        return json.loads(payload) if payload.strip().startswith((b"{", b"[")) else None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def application_variables(manifest, overrides):
    """Every application variable the manifest declares: its default, or its value in `overrides`."""
    doc = tomllib.loads(manifest.read_text())
    values = {name: str(spec.get("default", "")) for name, spec in doc.get("variables", {}).items()}
    values.update(overrides)
    return values


def component_variables(manifest, overrides):
    """What Spin hands the component for each of its variables: the `[component.*.variables]`
    templates rendered from the application variables' defaults and `overrides`."""
    doc = tomllib.loads(manifest.read_text())
    values = application_variables(manifest, overrides)
    (component,) = doc["component"].values()
    return {name: re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values[m.group(1)], template)
            for name, template in component.get("variables", {}).items()}
