"""Where things are, and the run's settings from the environment (see `benches/run --help`)."""

import os
from pathlib import Path

# This file is benches/bench/settings.py.
BENCHES = Path(__file__).resolve().parent.parent
ROOT = BENCHES.parent
PROBE_DIR = BENCHES / "probe"
NAIVE_DIR = BENCHES / "naive"
# Where our machines keep their Spin CLIs, relative to the repository (see spin.spin_bin).
SHARED_SPIN_INSTALL = ROOT.parent / "shared" / "spin" / "install"

DURATION = int(os.environ.get("BENCH_DURATION", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
ONLY = [s for s in os.environ.get("BENCH_ENDPOINTS", "").split(",") if s]
# The service measured: a .wasm to use instead of building the current source, and its manifest
# (every mode but `parts`, which builds its own variants of the source, honours both).
SERVICE_WASM = os.environ.get("SERVICE_WASM") or None
SERVICE_MANIFEST = Path(os.environ.get("SERVICE_MANIFEST", ROOT / "spin.toml"))
# How every app gets its Spin variables: "env" (SPIN_VARIABLE_* environment variables, Spin's env
# provider) or "file" (one `spin up --variable @variables.json` holding every variable the manifest
# declares, Spin's static provider). Spin resolves each declared variable through its providers on
# every request that opens Redis, and the env provider blocks a runtime worker for each one.
# "file" is the default: it is what docs/OPERATIONS.md recommends under the Spin CLI, and it leaves
# the components' own work to be compared; "env" adds what the env provider costs each app.
VARIABLES_FROM = os.environ.get("BENCH_VARIABLES_FROM", "file")
VARIABLES_DESCRIPTION = {
    "file": "from one file (spin up --variable @variables.json: Spin's static provider)",
    "env": "from the environment (SPIN_VARIABLE_*: Spin's env provider, which blocks per variable)",
}
if VARIABLES_FROM not in VARIABLES_DESCRIPTION:
    raise SystemExit(f"BENCH_VARIABLES_FROM={VARIABLES_FROM!r}: expected env or file")

LIST_USERS = 1000          # users in the database while list_users and the reads run
SIZE_GOAL = 400_000        # bytes: the release wasm's size goal (400 kB)
PLACEHOLDER = "__BENCH_V__"  # the per-request value in a wrk request (an id or a session token)
FRESH = "__BENCH_F__"        # a second per-request value, made fresh by wrk (the probe's new digests)
FRESH_CHARS = 43             # its length: a token digest's (base64url of 32 bytes, unpadded)
