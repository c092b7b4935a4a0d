"""What a run prints: the tables of `benches/run` (service vs probe, service vs naive peer, Redis
cost per request) and of `benches/run parts`, from the medians of the rounds."""

import os
import statistics
import subprocess
import time

from .instructions import REQUESTS, WARM_UP
from .settings import (CONNECTIONS, DURATION, ROOT, ROUNDS, SERVICE_WASM, SIZE_GOAL, THREADS, VARIABLES_DESCRIPTION,
                       VARIABLES_FROM)


def median(xs):
    """The median, or NaN for a side that never ran (so a table prints `nan`, not a crash)."""
    return statistics.median(xs) if xs else float("nan")


def describe_source():
    """Which service was measured, for the line under a table's title: the commit it was built
    from, and whether the files that go into the build had uncommitted changes."""
    if SERVICE_WASM:
        return f"wasm {SERVICE_WASM}"
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock", "spin.toml"],
                           capture_output=True, text=True).stdout
    changed = sorted({line[3:].split("/")[0] for line in dirty.splitlines()})
    return f"built from commit {rev}" + (f" plus uncommitted changes ({', '.join(changed)})" if dirty else "")


def print_header(title, spin_version, wrk, variables=None, rounds=True):
    """The lines every report starts with: what ran, on what, and how each app got its variables."""
    print()
    print(f"user-session-service{title}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"  {spin_version}; service {describe_source()}")
    print(f"  {wrk}{f', {ROUNDS} interleaved rounds, medians' if rounds else ''}; "
          f"{os.cpu_count()} CPUs, load average at the end {os.getloadavg()[0]:.2f}")
    for line in variables or [f"Spin variables of every app {VARIABLES_DESCRIPTION[VARIABLES_FROM]}"]:
        print(f"  {line}")


def print_benchmark(bench):
    print_header(" benchmarks", bench.spin_version, f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s")
    size = bench.service_wasm.stat().st_size
    print(f"  release wasm: {size:,} bytes ({size / 1000:.0f} kB) vs goal {SIZE_GOAL / 1000:.0f} kB: "
          f"{'ok' if size <= SIZE_GOAL else 'MISSED'}"
          + (f"  (probe: {bench.probe_wasm.stat().st_size:,} bytes)" if bench.with_probe else ""))
    if bench.with_probe:
        print_ratios(bench)
        print_naive(bench)
    if bench.mode in ("all", "capacity"):
        print_capacity(bench)


def print_ratios(bench):
    get_user = next((median([x.rate for x in row.service]) for row in bench.rows if row.ep.capture == "get_user"), None)
    print()
    print("Service vs floor probe (req/s; ratio = service / probe)")
    head = f"{'endpoint':<34} {'service':>9} {'probe':>9} {'ratio':>6}  {'per round':<{ROUNDS * 5}} goal"
    print(head)
    print("-" * (len(head) + 40))
    for row in bench.rows:
        ep, service, probe = row.ep, row.service, row.probe
        s, p = median([x.rate for x in service]), median([x.rate for x in probe])
        per_round = " ".join(f"{a.rate / b.rate:.2f}" for a, b in zip(service, probe))
        if ep.goal == "list":
            ratio = s / get_user if get_user else float("nan")
            goal = f"≥ 0.29× get_user: {ratio:.2f}× {'ok' if ratio >= 0.29 else 'MISSED'}"
        else:
            floor = "answer-at-once probe" if ep.expect_error else "probe"
            goal = f"≥ 0.95× {floor}: {'ok' if s / p >= 0.95 else 'MISSED by %.0f%%' % ((0.95 - s / p) * 100)}"
        warn = " (!)" if getattr(ep, "warned", False) else ""
        print(f"{ep.name:<34} {s:>9.0f} {p:>9.0f} {s / p:>6.2f}  {per_round:<{ROUNDS * 5}} {goal}{warn}")
    print("(!) = a run logged a WARNING above.  Probe for 404/405: /now, which answers at once.")


def print_naive(bench):
    """Issue 13's goals: the original endpoints against the naive Spin port of them, and the
    404 against the probe that answers at once, from the same rounds as the table above."""
    rows = [row for row in bench.rows if row.ep.naive or row.ep.capture == "not_found"]
    if not rows:
        return
    print()
    print("Service vs naive Spin port of the original endpoints, and the session read by header "
          "(req/s; ratio = service / peer)")
    head = f"{'endpoint':<34} {'service':>9} {'peer':>9} {'ratio':>6}  {'per round':<{ROUNDS * 5}} goal"
    print(head)
    print("-" * (len(head) + 40))
    for row in rows:
        ep = row.ep
        peer = row.naive if ep.naive else row.probe
        s, p = median([x.rate for x in row.service]), median([x.rate for x in peer])
        per_round = " ".join(f"{a.rate / b.rate:.2f}" for a, b in zip(row.service, peer))
        if ep.naive == "shown":
            goal = "no goal (the peer reads or writes several keys, as Flask did)"
        else:
            want, floor = (0.95, "naive peer") if ep.naive else (0.9, "answer-at-once probe")
            if ep.naive_path:
                floor = f"naive {naive_request(ep)}"
            verdict = "MET" if s / p >= want else "MISSED by %.0f%%" % ((want - s / p) * 100)
            goal = f"≥ {want:.2f}× {floor}: {verdict}"
        warn = " (!)" if getattr(ep, "warned", False) else ""
        print(f"{ep.name:<34} {s:>9.0f} {p:>9.0f} {s / p:>6.2f}  {per_round:<{ROUNDS * 5}} {goal}{warn}")
    print("peer: benches/naive (SDK router, one variables::get, the Flask service's commands); for the")
    print("  404, the probe's /now. Where a goal is missed, `benches/run parts` shows where the time goes.")
    for row in rows:
        if row.ep.naive_path:
            print(f"  {row.ep.name}: the peer answers {naive_request(row.ep)} (one variable lookup, one GET).")


def naive_request(ep):
    """The peer's request of a row whose peer runs another request, by its route: the session id
    in `/get_session/bench-session` becomes `{id}`."""
    route = ep.naive_path.rsplit("/", 1)[0] + "/{id}"
    return f"GET {route}"


def print_capacity(bench):
    print()
    print("Redis cost per HTTP request, service only (medians of the service runs)")
    head = (f"{'endpoint':<34} {'cmds/req':>8} {'cmd µs':>7} {'inner µs':>8} {'cpu µs':>7} "
            f"{'req/s per Redis core':>21}")
    print(head + "  goal")
    print(f"{'':<34} {'':>8} {'':>7} {'(incl.)':>8} {'':>7} {'by cmd µs':>10} {'by cpu µs':>10}")
    print("-" * (len(head) + 30))
    for row in bench.rows:
        ep, costs = row.ep, row.costs
        calls = median([c["calls"] for c in costs])
        cmd = median([c["cmd_us"] for c in costs])
        inner = median([c["inner_us"] for c in costs])
        cpu = median([c["cpu_us"] for c in costs])
        by_cmd = f"{1e6 / cmd:>10,.0f}" if cmd > 0 else f"{'-':>10}"
        by_cpu = f"{1e6 / cpu:>10,.0f}" if cpu > 0 else f"{'-':>10}"
        goal = ""
        if ep.cmd_goal_us is not None:
            goal = f"  cmd µs < {ep.cmd_goal_us:g}: {'MET' if cmd < ep.cmd_goal_us else 'MISSED'}"
        print(f"{ep.name:<34} {calls:>8.2f} {cmd:>7.1f} {inner:>8.1f} {cpu:>7.1f} {by_cmd} {by_cpu}{goal}")
    print("cmd µs: Σ usec of the commands the service sends (EVALSHA counts its script's inner commands),")
    print("  from INFO commandstats after CONFIG RESETSTAT, ÷ requests served. inner µs: the script-inner")
    print("  commands' own usec, already inside cmd µs, shown only as a check. cpu µs: redis-server's whole")
    print("  CPU time (INFO cpu: user+sys, incl. accepting one connection per request) ÷ requests.")
    if any(row.ep.cmd_goal_us is not None for row in bench.rows):
        print("  goal: reading a session by its token is one plain GET, under 1 µs (issue 15).")


def print_parts(parts):
    print_header(": Spin CPU per request by part", parts.spin_version, f"wrk -t1 -c1 -d{DURATION}s per app and request")
    print()
    pr = max(ROUNDS * 5, len("part per round"))
    width = 7 + 1 + 7 + 2 + pr
    print(f"{'':<34}" + "".join(f" {name:<{width}}" for _, name in parts.KINDS))
    print(f"{'build':<34}" + f" {'µs/req':>7} {'part':>7}  {'part per round':<{pr}}" * len(parts.KINDS))
    print("-" * (34 + (width + 1) * len(parts.KINDS)))
    base = parts.us[parts.apps[0].label]
    sums = {kind: 0.0 for kind, _ in parts.KINDS}
    for i, a in enumerate(parts.apps):
        line = f"{a.label:<34}"
        for kind, _ in parts.KINDS:
            got = parts.us[a.label][kind]
            if 1 <= i <= len(parts.parts):
                diffs = [b - v for b, v in zip(base[kind], got)]
                sums[kind] += median(diffs)
                per_round = " ".join(f"{d:>4.0f}" for d in diffs)
                line += f" {median(got):>7.0f} {median(diffs):>7.1f}  {per_round:<{pr}}"
            else:
                line += f" {median(got):>7.0f} {'':>7}  {'':<{pr}}"
        print(line)
        if i == len(parts.parts):
            print(f"{'sum of the parts':<34}" + "".join(
                f" {'':>7} {sums[kind]:>7.1f}  {'':<{pr}}" for kind, _ in parts.KINDS))
    naive, probe = parts.us[parts.apps[-2].label], parts.us[parts.apps[-1].label]
    print(f"{'service - naive peer':<34}" + "".join(
        f" {'':>7} {median([b - v for b, v in zip(base[kind], naive[kind])]):>7.1f}  {'':<{pr}}"
        for kind, _ in parts.KINDS))
    print(f"{'service - probe':<34}" + "".join(
        f" {'':>7} {median([b - v for b, v in zip(base[kind], probe[kind])]):>7.1f}  {'':<{pr}}"
        for kind, _ in parts.KINDS))
    print("µs/req: CPU time (utime+stime) of `spin up` and its trigger process ÷ requests served.")
    print("part: what leaving that part out saved, median of the rounds' paired differences from the")
    print("  full service (its spread shows the noise). api_token set; the naive peer and the probe check")
    print("  no token. The 404 reads no variable and checks no token, so those rows measure noise there.")


def print_variables(d):
    print_header(": Spin variables from the environment or from a file", d.spin_version,
                 f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s",
                 [f"env:  {VARIABLES_DESCRIPTION['env']}", f"file: {VARIABLES_DESCRIPTION['file']}"])
    print()
    pr = max(ROUNDS * 5, len("per round"))
    print(f"{'app (request)':<44} {'from':<5} {'req/s':>7} {'CPU µs':>7}  {'service ÷ peer':>14}  per round")
    print("-" * (44 + 1 + 5 + 1 + 7 + 1 + 7 + 2 + 14 + 2 + pr))
    for a in d.apps:
        request = "GET /v1/session" if a.label == "service" else "GET /get_session/{id}"
        ratio, per_round = "", ""
        if a.label == "service":
            peer = d.app("naive peer", a.delivery)
            ratios = [s / p for s, p in zip(a.rates, peer.rates)]
            ratio = f"{median(a.rates) / median(peer.rates):.2f}"
            per_round = " ".join(f"{x:.2f}" for x in ratios)
        print(f"{a.label + ' (' + request + ')':<44} {a.delivery:<5} {median(a.rates):>7.0f} "
              f"{median(a.cpu_us):>7.0f}  {ratio:>14}  {per_round}")
    print()
    for label in ("service", "naive peer"):
        env, file = d.app(label, "env"), d.app(label, "file")
        gains = [f / e for f, e in zip(file.rates, env.rates)]
        print(f"{label}: from a file {median(file.rates) / median(env.rates):.2f}× the requests per second from the "
              f"environment (per round {' '.join(f'{g:.2f}' for g in gains)}), "
              f"{median(env.cpu_us) - median(file.cpu_us):.0f} µs less Spin CPU per request")
    print("CPU µs: CPU time (utime+stime) of `spin up` and its trigger process ÷ requests served.")
    print("The service declares five application variables and reads five in `settings`; the peer one and one.")


def print_instructions(run):
    print_header(": instructions per request under Spin (valgrind --tool=callgrind)", run.spin_version,
                 f"{REQUESTS} requests per row and app on one keep-alive connection, after {WARM_UP} uncounted",
                 rounds=False)
    print()
    width = max(len(c.name) for c in run.cases)
    print(f"{'request':<{width}} {'service':>11} {'naive peer':>11}  {'peer ÷ service':>14}")
    print("-" * (width + 1 + 11 + 1 + 11 + 2 + 14))
    for c in run.cases:
        service, peer = c.counts["service"], c.counts["naive peer"]
        print(f"{c.name:<{width}} {service:>11,.0f} {peer:>11,.0f}  {peer / service:>14.3f}")
    print("Instructions that Spin's trigger process runs in user space per request (its compiled wasm")
    print("included), the same from run to run within 0.1%. Not counted: the kernel's side of system")
    print("calls. peer ÷ service is the service's throughput relative to the peer if both were bound")
    print("by these instructions alone; `benches/run ratios` measures the throughput itself.")
