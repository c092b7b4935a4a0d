"""Benchmarks of the user-session service under the real Spin CLI.

    benches/run             the three tables below, from one set of runs
    benches/run ratios      service vs floor probe, and service vs naive peer
    benches/run capacity    Redis CPU per request only (service runs only, quicker)
    benches/run parts       Spin CPU per request of builds without each part of a request
    benches/run variables   the service and the naive peer with Spin variables from the
                            environment and from a file, side by side
    benches/run instructions
                            instructions per request of the service and the naive peer under
                            Spin, counted by valgrind's callgrind (the same from run to run)

The service, a floor probe (benches/probe: a component that does one request's I/O and nothing
else) and a naive peer (benches/naive: the original six endpoints ported to Spin the way its
documentation shows) run side by side under `spin up`, each with its own private redis-server
holding identical data. wrk drives each endpoint against them, in interleaved rounds, and the
tables show the medians and their ratios: how close the service gets to the cheapest component
that could do the same I/O, and to the plain port of the Flask service. While the service runs,
its Redis counts the CPU it spends (INFO commandstats and INFO cpu), which gives how many requests
per second one Redis core could serve.

`parts` builds the service once as it is and once without each part of a request (cargo features
bench-skip-*), serves the builds side by side, and prints the CPU time of each build's Spin
process per request (wrk -t1 -c1): what routing, the request id, variable lookups, the token
check, the access log and JSON encoding each cost.

Nothing here knows the service's internals. The commands the probe runs, and the commands used to
seed data, are learned by watching Redis (MONITOR) while the service answers one request of each
kind through its HTTP API. So the benchmark keeps working when the service's code, keys or scripts
change, as long as its HTTP API does not.

Settings (environment):
    BENCH_DURATION=3        seconds per wrk run
    BENCH_ROUNDS=5          interleaved rounds per endpoint (the median is reported)
    BENCH_THREADS=2         wrk -t
    BENCH_CONNECTIONS=16    wrk -c
    BENCH_ENDPOINTS=...     comma-separated substrings: only endpoints whose name contains one
    SPIN_BIN                the spin binary (default: ../shared/spin/install 4.0.2 beside the
                            repository if it exists, else `spin` on the PATH)
    SERVICE_WASM            a service .wasm to use instead of building the current source
    SERVICE_MANIFEST        the service's spin.toml (default: the repository's)
    BENCH_KEEP=1            keep the scratch directory (Spin and Redis logs)
    BENCH_REQUESTS=200      `instructions`: counted requests per request kind and app
    BENCH_VARIABLES_FROM=file
                            how each app gets its Spin variables: file (`spin up --variable
                            @variables.json` with every variable its manifest declares, Spin's
                            static provider) or env (SPIN_VARIABLE_*, Spin's env provider)

Needs: python3 (standard library only), wrk, redis-server, cargo with the wasm32-wasip1 target;
valgrind for `instructions`.
"""

import shutil
import subprocess
import sys
import time

from . import report
from .benchmark import Bench
from .delivery import Delivery
from .instructions import Instructions
from .parts import Parts
from .system import log


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "all"
    if mode not in ("all", "ratios", "capacity", "parts", "variables", "instructions") or len(sys.argv) > 2:
        print(__doc__)
        return 2
    for tool in ("wrk", "redis-server", "cargo"):
        if not shutil.which(tool):
            print(f"benches/run needs {tool} on the PATH", file=sys.stderr)
            return 1
    if mode == "parts":
        parts = Parts()
        return run(parts, [parts.run], report.print_parts)
    if mode == "instructions":
        instructions = Instructions()
        return run(instructions, [instructions.run], report.print_instructions)
    if mode == "variables":
        delivery = Delivery()
        return run(delivery, [delivery.run], report.print_variables)
    bench = Bench(mode)
    steps = [bench.build, bench.start, bench.learn, bench.seed, bench.warm_up, bench.measure]
    return run(bench, steps, report.print_benchmark)


def run(runner, steps, print_report):
    """Runs the steps, stops what they started whatever happens, and prints the report if they
    all ran: 0, or 1 after saying what failed."""
    started = time.time()
    try:
        for step in steps:
            step()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print(f"benches/run: {e}", file=sys.stderr)
        return 1
    finally:
        runner.stop()
    print_report(runner)
    log(f"done in {time.time() - started:.0f} s")
    return 0
