"""`benches/run`, `ratios` and `capacity`: the service, the floor probe and the naive peer served
side by side, each on its own Redis; what the service sends learned by watching its Redis; the same
data seeded into every Redis by replaying it; then every endpoint measured in interleaved rounds,
with each run's Redis work read from INFO. The tables are printed by `report`."""

import base64
import secrets
import threading
import time
from dataclasses import dataclass

from .monitor import CONNECTION_SETUP, Capture, Monitor, Scripts, digest, templated
from .redis_client import RedisError, RedisServer, encode_command
from .report import median
from .settings import CONNECTIONS, DURATION, LIST_USERS, NAIVE_DIR, PROBE_DIR, ROUNDS, THREADS
from .spin import SpinApp, cargo_build, manifest_with_absolute_source, service_manifest, spin_bin, spin_version
from .system import Scratch, log
from .workloads import (CONSUMED, JSON, SESSION_PATCH, TOKEN, Endpoint, endpoints, probe_header, probe_values,
                        selected, supply_needs)
from .wrk import run_wrk


# Sessions seeded per user for the runs that delete or rotate them: under the per-user cap
# (default 100), so that seeding one never evicts another.
SESSIONS_PER_OWNER = 50
# Sessions seeded for the user of `POST /v1/sessions (user at cap)`: enough to reach a cap of up
# to this many (the service's, default 100) before its first request.
AT_CAP_SEEDED = 300


@dataclass
class Row:
    """One endpoint's runs, a WrkResult per round and side (`naive` empty when the peer does not
    serve it), and the service's Redis cost per round."""
    ep: Endpoint
    service: list
    probe: list
    naive: list
    costs: list


class Bench:
    def __init__(self, mode):
        self.mode = mode
        self.with_probe = mode in ("all", "ratios")
        self.scratch = Scratch("user-session-bench-")
        self.workdir = self.scratch.workdir
        self.scripts = Scripts()
        self.captures = {}
        self.rows = []          # Row per endpoint measured

    # -- setup ------------------------------------------------------------------------------

    def build(self):
        self.service_manifest, self.service_wasm = service_manifest(self.workdir, "service")
        if self.with_probe:
            log("building the probe: benches/probe, cargo build --target wasm32-wasip1 --release")
            cargo_build(PROBE_DIR)
            self.probe_manifest, self.probe_wasm = manifest_with_absolute_source(
                PROBE_DIR / "spin.toml", self.workdir, "probe")
            log("building the naive peer: benches/naive, cargo build --target wasm32-wasip1 --release")
            cargo_build(NAIVE_DIR)
            self.naive_manifest, self.naive_wasm = manifest_with_absolute_source(
                NAIVE_DIR / "spin.toml", self.workdir, "naive")

    def start(self):
        spin = spin_bin()
        self.spin_version = spin_version(spin)
        self.service_redis = self.scratch.keep(RedisServer(self.workdir, "service-redis"))
        self.service = self.scratch.keep(SpinApp(spin, self.service_manifest, self.service_redis, "service"))
        log(f"service: {self.service.url} (Redis {self.service_redis.url}), {self.spin_version}")
        if self.with_probe:
            self.probe_redis = self.scratch.keep(RedisServer(self.workdir, "probe-redis"))
            self.probe = self.scratch.keep(SpinApp(spin, self.probe_manifest, self.probe_redis, "probe"))
            log(f"probe:   {self.probe.url} (Redis {self.probe_redis.url})")
            self.naive_redis = self.scratch.keep(RedisServer(self.workdir, "naive-redis"))
            self.naive = self.scratch.keep(SpinApp(spin, self.naive_manifest, self.naive_redis, "naive"))
            log(f"naive:   {self.naive.url} (Redis {self.naive_redis.url})")

    def stop(self):
        self.scratch.stop()

    # -- learning what the service sends --------------------------------------------------------

    def call(self, method, path, body=None, headers=None, expect=(200,), app=None):
        return (app or self.service).call(method, path, body, headers, expect)

    def capture(self, key, method, path, body=None, headers=None, expect=(200,), variables=None):
        self._marker = getattr(self, "_marker", 0) + 1
        begin, end = b"bench-begin-%d" % self._marker, b"bench-end-%d" % self._marker
        self.service_redis.ctl.call("ECHO", begin)
        answer = self.call(method, path, body, headers, expect)
        self.service_redis.ctl.call("ECHO", end)
        commands = self.monitor.between(begin, end)
        setup = [c for c in commands if c[0].upper().decode() in CONNECTION_SETUP]
        commands = self.scripts.normalise([c for c in commands if c[0].upper().decode() not in CONNECTION_SETUP])
        self.scripts.check(commands)
        self.captures[key] = Capture(templated(commands, **(variables or {})), setup)
        return answer

    def replay(self, server, key, count=1, values=None):
        """Runs the commands of a captured request against a Redis directly, `count` times (or
        once per entry of `values`, a list of placeholder dicts); returns the last reply of each."""
        per = [values[i] if values else {} for i in range(count if not values else len(values))]
        batches = [self.captures[key].render(**v) for v in per]
        replies = server.ctl.pipeline([cmd for batch in batches for cmd in batch])
        errors = [r for r in replies if isinstance(r, RedisError)]
        if errors:
            raise RuntimeError(f"replaying {key}: {errors[0]}")
        n = len(self.captures[key].commands)
        return [replies[(i + 1) * n - 1] for i in range(len(per))] if n else [None] * len(per)

    def learn(self):
        """Calls every endpoint once through the HTTP API while watching the service's Redis."""
        log("learning the Redis commands of each endpoint (MONITOR on the service's Redis)")
        self.monitor = Monitor(self.service_redis)
        try:
            self.capture("create_user", "POST", "/create_user", '{"nom":"Doe","prenom":"John"}', JSON, (201,))
            # Distinctive user ids for the captures below, so that the id can be told apart from
            # other numbers in a command: add users by replaying the creation we just saw.
            self.replay(self.service_redis, "create_user", 7370)
            a = self.capture("v1_create_user", "POST", "/v1/users", '{"nom":"Doe","prenom":"Jane"}', JSON, (201,))["id"]
            b = self.call("POST", "/create_user", '{"nom":"Roe","prenom":"Rick"}', JSON, (201,))["user_id"]
            if a < 7000 or b < 7000:
                raise RuntimeError(f"replayed user creation did not raise the ids (got {a}, {b})")
            self.capture("get_user", "GET", f"/get_user/{a}", variables={"uid": a})
            self.capture("v1_get_user", "GET", f"/v1/users/{a}", variables={"uid": a})
            self.capture("v1_patch_user", "PATCH", f"/v1/users/{a}", '{"prenom":"Janet"}', JSON, variables={"uid": a})
            sid = "benchsession" + secrets.token_hex(8)
            self.capture("create_session", "POST", "/create_session",
                         f'{{"session_id":"{sid}","data":{{"theme":"sombre"}}}}', JSON, (201,), {"sid": sid})
            self.capture("get_session", "GET", f"/get_session/{sid}", variables={"sid": sid})
            tok = self.capture("v1_create_session", "POST", "/v1/sessions",
                               f'{{"user_id":{a},"data":{{"theme":"sombre"}},"ttl_seconds":3600}}', JSON, (201,))["id"]
            self.retemplate("v1_create_session", uid=a, tok=tok)
            self.capture("v1_get_session", "GET", f"/v1/sessions/{tok}", variables={"tok": tok})
            self.capture("v1_get_session_header", "GET", "/v1/session", headers={TOKEN: tok}, variables={"tok": tok})
            self.capture("v1_patch_session", "PATCH", f"/v1/sessions/{tok}", SESSION_PATCH, JSON,
                         variables={"tok": tok})
            self.capture("v1_patch_session_header", "PATCH", "/v1/session", SESSION_PATCH, {**JSON, TOKEN: tok},
                         variables={"tok": tok})
            self.capture("v1_delete_session", "DELETE", f"/v1/sessions/{tok}", expect=(204,), variables={"tok": tok})
            # Rotation and the header form's DELETE, each of a session of its own.
            old = self.new_session(a)
            new = self.capture("v1_rotate_session", "POST", "/v1/session/rotate", headers={TOKEN: old},
                               expect=(201,))["id"]
            self.retemplate("v1_rotate_session", tok=old, new=new)
            other = self.new_session(a)
            self.capture("v1_delete_session_header", "DELETE", "/v1/session", headers={TOKEN: other}, expect=(204,),
                         variables={"tok": other})
            self.capture("delete_user", "DELETE", f"/delete_user/{b}", variables={"uid": b})
            self.capture("v1_delete_user", "DELETE", f"/v1/users/{a}", expect=(204,), variables={"uid": a})
            self.capture("not_found", "GET", "/bench/no/such/path", expect=(404,))
            self.capture("method_not_allowed", "POST", f"/get_user/{b}", expect=(405,))
            # list_users over exactly LIST_USERS users.
            self.service_redis.ctl.call("FLUSHALL")
            self.replay(self.service_redis, "create_user", LIST_USERS)
            users = self.capture("list_users", "GET", "/list_users")
            if len(users) != LIST_USERS:
                raise RuntimeError(f"list_users returned {len(users)} users, expected {LIST_USERS}")
        finally:
            self.monitor.close()
        for key, cap in self.captures.items():
            log(f"  {key:<24} {cap.describe()}")
        for key, cap in self.captures.items():
            if key.startswith("v1_") and (cap.carries("tok") or cap.carries("new")):
                log(f"WARNING {key}: the service sent a session token itself to Redis, not only its digest "
                    "(issue 15 forbids it)")
        if any(c.setup for c in self.captures.values()):
            log("  (connection setup commands seen and left to Spin: "
                f"{sorted({c[0].decode() for cap in self.captures.values() for c in cap.setup})})")

    def new_session(self, uid):
        return self.call("POST", "/v1/sessions", f'{{"user_id":{uid},"data":{{"theme":"sombre"}},"ttl_seconds":3600}}',
                         JSON, (201,))["id"]

    def retemplate(self, key, **variables):
        """Templates a capture again, for values known only from the request's answer (a new token)."""
        cap = self.captures[key]
        self.captures[key] = Capture(templated(cap.render(), **variables), cap.setup)

    # -- data -------------------------------------------------------------------------------------

    def servers(self):
        return [self.service_redis] + ([self.probe_redis, self.naive_redis] if self.with_probe else [])

    def seed(self):
        """The same data in every Redis server: LIST_USERS users, a session of each kind."""
        self.seed_values = {"uid": LIST_USERS // 2, "sid": "bench-session", "tok": self.token(), "session_owner": 3}
        for server in self.servers():
            server.ctl.call("FLUSHALL")
            self.scripts.load_into(server)
            self.replay(server, "create_user", LIST_USERS)
            self.replay(server, "create_session", values=[{"sid": self.seed_values["sid"]}])
            self.replay(server, "v1_create_session", values=[{"uid": 1, "tok": self.seed_values["tok"]}])
        sizes = {s.name: s.ctl.call("DBSIZE") for s in self.servers()}
        if len(set(sizes.values())) != 1:
            raise RuntimeError(f"the Redis servers hold different data: {sizes}")
        # Check the seeded data through the service's API, and that the naive peer reads it as the
        # service's original endpoints do (same JSON values; the bytes differ).
        v = self.seed_values
        reads = [f"/get_user/{v['uid']}", f"/get_session/{v['sid']}", "/list_users"]
        answers = [self.call("GET", path) for path in reads]
        for got in (self.call("GET", f"/v1/sessions/{v['tok']}"), self.call("GET", "/v1/session", headers={TOKEN: v["tok"]})):
            if got.get("user_id") != 1:
                raise RuntimeError(f"the seeded session belongs to {got.get('user_id')}, not to user 1")
        if len(answers[-1]) != LIST_USERS:
            raise RuntimeError(f"seeded {LIST_USERS} users, list_users shows {len(answers[-1])}")
        if self.with_probe:
            for path, answer in zip(reads, answers):
                if self.call("GET", path, app=self.naive) != answer:
                    raise RuntimeError(f"GET {path}: the naive peer and the service answer different JSON")
        log(f"seeded every Redis server: {sizes}")

    @staticmethod
    def token():
        """A session id of the service's form: 192 random bits, 32 URL-safe characters."""
        return base64.urlsafe_b64encode(secrets.token_bytes(24)).decode()

    def seed_supply(self, rate_estimate, needs):
        """The per-request values of the runs that take one from a file, the same data in every
        Redis: users to delete and sessions to delete or rotate, enough for every request those
        runs could make at the fastest rate seen so far, plus a margin (each run uses the next
        unused ones; a run that runs out is reported); and the users who log in (`session_users`),
        each with a session already, and the user at the cap, at the cap.

        The sessions' tokens are made here, 32 random base64url characters as the service makes
        them, and each session is seeded by replaying the service's captured creation with the
        token's digest in place (the service stores only digests): the service is handed the
        tokens, the probe their digests (`sessions-digests.txt`, line for line), so Redis does the
        same work for both. They belong to users of their own, SESSIONS_PER_OWNER each, under the
        per-user cap."""
        per_endpoint = int(rate_estimate * DURATION * (ROUNDS * 1.1 + 1)) + 1000
        need_users, need_sessions = needs["users"] * per_endpoint, needs["sessions"] * per_endpoint
        owners = -(-need_sessions // SESSIONS_PER_OWNER)
        log(f"seeding the runs' data: {need_users:,} users to delete, {need_sessions:,} sessions of "
            f"{owners:,} more users in each Redis")
        started = time.time()
        n_user_cmds = len(self.captures["create_user"].commands)
        users = [encode_command(c) for c in self.captures["create_user"].render()] * (owners + need_users)
        replies = self.pipeline_everywhere(users)
        ids = None
        for name, got in replies.items():
            got = got[n_user_cmds - 1::n_user_cmds]
            got = got if all(isinstance(r, int) and r > 0 for r in got) else None
            if ids is not None and got != ids:
                raise RuntimeError("the Redis servers handed out different user ids")
            ids = got
        if ids is None:  # user creation does not answer with the id: ask the API
            ids = sorted(self.list_new_user_ids())
        if len(ids) != owners + need_users:
            raise RuntimeError(f"seeded {owners + need_users} users, found {len(ids)}")
        owner_ids, ids = ids[:owners], [str(i) for i in ids[owners:]]
        tokens = [self.token() for _ in range(need_sessions)]
        create = self.captures["v1_create_session"]
        self.pipeline_everywhere([encode_command(cmd) for i, t in enumerate(tokens)
                                  for cmd in create.render(uid=owner_ids[i % owners], tok=t)])
        # The logins: whether a user has a session already changes what a creation does to the
        # user's index, so every user who logs in has one before the runs, in every Redis (else
        # the service and the probe, at different rates, would meet different mixes). The user of
        # the login at the cap is filled to the cap (the creations beyond it evict).
        owner = self.seed_values["session_owner"]
        logins = [u for u in range(1, LIST_USERS + 1) if u != owner] + [owner] * AT_CAP_SEEDED
        self.pipeline_everywhere([encode_command(cmd) for u in logins
                                  for cmd in create.render(uid=u, tok=self.token())])
        sizes = {s.name: s.ctl.call("DBSIZE") for s in self.servers()}
        if len(set(sizes.values())) != 1:
            raise RuntimeError(f"the Redis servers hold different data: {sizes}")
        for i in {0, need_sessions - 1} if tokens else ():
            got = self.call("GET", "/v1/session", headers={TOKEN: tokens[i]})
            if got.get("user_id") != owner_ids[i % owners]:
                raise RuntimeError(f"seeded session {i} belongs to {got.get('user_id')}, not {owner_ids[i % owners]}")
        log(f"  seeded in {time.time() - started:.1f} s: {sizes}")
        time.sleep(1)  # let the Redis servers settle (rehashing) before the next run
        self.supply = {"users": ids, "sessions": tokens,
                       "session_users": [str(u) for u in range(1, LIST_USERS + 1) if u != owner]}
        self.supply_offset = {name: 0 for name in self.supply}
        for name, values in self.supply.items():
            self.supply_file(name).write_text("".join(v + "\n" for v in values))
        self.supply_file("sessions", probe=True).write_text("".join(digest(t).decode() + "\n" for t in tokens))

    def supply_file(self, name, probe=False):
        """A supply's values, one a line; for the probe, the sessions' digests instead of tokens."""
        return self.workdir / (f"{name}-digests.txt" if probe and name == "sessions" else f"{name}.txt")

    def pipeline_everywhere(self, commands):
        """Sends the same (encoded) commands to every Redis at once; their replies by server."""
        replies = {}

        def send(server):
            try:
                replies[server.name] = server.ctl.pipeline(commands, encoded=True)
            except Exception as e:  # reported below
                replies[server.name] = e

        threads = [threading.Thread(target=send, args=(server,)) for server in self.servers()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, got in replies.items():
            if isinstance(got, Exception):
                raise RuntimeError(f"seeding {name}: {got}")
            errors = [r for r in got if isinstance(r, RedisError)]
            if errors:
                raise RuntimeError(f"seeding {name}: {errors[0]}")
        return replies

    def list_new_user_ids(self):
        """User ids above LIST_USERS, through the API (when the create command's reply is not the id)."""
        ids, cursor = [], None
        while True:
            page = self.call("GET", "/v1/users?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
            ids += [u["id"] for u in page["items"] if u["id"] > LIST_USERS]
            cursor = page.get("next_cursor")
            if not cursor:
                return ids

    # -- measuring --------------------------------------------------------------------------------

    def warm_up(self):
        log("warming up")
        run_wrk(self.workdir, self.service.url, "GET", f"/get_user/{self.seed_values['uid']}", None, {}, duration=1)
        if self.with_probe:
            cmds = self.captures["get_user"].render(uid=self.seed_values["uid"])
            run_wrk(self.workdir, self.probe.url, "GET", "/redis", None, {"probe-command": probe_header(cmds)}, duration=1)
            run_wrk(self.workdir, self.naive.url, "GET", f"/get_user/{self.seed_values['uid']}", None, {}, duration=1)

    def run_side(self, ep, side, round_no, offset):
        values_file = self.supply_file(ep.supply, probe=side == "probe") if ep.supply else None
        if side == "naive" and ep.naive_path:
            return run_wrk(self.workdir, self.naive.url, "GET", ep.naive_path, None, {})
        if side in ("service", "naive"):
            app = self.service if side == "service" else self.naive
            return run_wrk(self.workdir, app.url, ep.method, ep.path, ep.body, dict(ep.headers), values_file, offset)
        if ep.expect_error:
            return run_wrk(self.workdir, self.probe.url, "GET", "/now", None, {})
        header = probe_header(self.captures[ep.capture].render(**probe_values(ep)))
        return run_wrk(self.workdir, self.probe.url, "GET", "/redis", None, {"probe-command": header},
                       values_file, offset, "r%02d" % round_no if ep.unique else None)

    @staticmethod
    def settle(server):
        """Waits for the requests still in flight when the last wrk run on this Redis stopped: they
        reach Redis afterwards, and would count as the next run's work."""
        time.sleep(0.1)
        deadline = time.time() + 2
        while int(server.ctl.info("clients")["connected_clients"]) > 1 and time.time() < deadline:
            time.sleep(0.02)

    @staticmethod
    def cpu_seconds(server):
        cpu = server.ctl.info("cpu")
        return float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"])

    def redis_work(self, server, before_cpu, result):
        """What a Redis did per HTTP request during the run just finished (after CONFIG RESETSTAT):
        calls and usec of each command (INFO commandstats) and its whole CPU time (INFO cpu)."""
        n = max(result.requests, 1)
        per_command = {}
        for key, value in server.ctl.info("commandstats").items():
            name = key.removeprefix("cmdstat_").split("|")[0]
            if name in ("config", "info"):
                continue  # our own control connection
            fields = dict(kv.split("=") for kv in value.split(","))
            calls, usec = per_command.get(name, (0.0, 0.0))
            per_command[name] = (calls + int(fields["calls"]) / n, usec + int(fields["usec"]) / n)
        return {"commands": per_command, "cpu_us": (self.cpu_seconds(server) - before_cpu) * 1e6 / n}

    def redis_cost(self, ep, work):
        """Redis time per request: the commands the service sends, counted once (see README)."""
        top = {c[0].decode().lower() for c in self.captures[ep.capture].commands}
        top |= {c[0].decode().lower() for cap in self.captures.values() for c in cap.setup}
        cmd = sum(usec for name, (_, usec) in work["commands"].items() if name in top)
        inner = sum(usec for name, (_, usec) in work["commands"].items() if name not in top)
        calls = sum(c for name, (c, _) in work["commands"].items() if name in top)
        return {"cmd_us": cmd, "inner_us": inner, "calls": calls, "cpu_us": work["cpu_us"]}

    def same_redis_work(self, ep, service, probe):
        """Whether Redis ran the same commands, as often per request, for the service and the probe:
        the ratio only means something if it did. Returns the differences."""
        s, p = service[1]["commands"], probe[1]["commands"]
        # Requests still in flight when wrk stops reach Redis but are not counted by wrk.
        slack = 0.03 + CONNECTIONS / max(min(service[0].requests, probe[0].requests), 1)
        diffs = []
        for name in sorted(set(s) | set(p)):
            a, b = s.get(name, (0, 0))[0], p.get(name, (0, 0))[0]
            if abs(a - b) > slack * max(a, b, 0.1):
                diffs.append(f"{name} {a:.2f} vs {b:.2f} calls/request")
        return diffs

    def measure(self):
        eps = selected(endpoints(self.seed_values))
        fastest = 0.0
        for ep in eps:
            # The delete runs' data is seeded once the reads are done (list_users must see exactly
            # LIST_USERS users) and before anything creates users (both Redis servers must then
            # still hold the same data, so that they hand out the same ids).
            creates = ep.method == "POST" and not ep.expect_error
            if (ep.supply or creates) and not hasattr(self, "supply"):
                self.seed_supply(fastest or 5000, supply_needs(eps))
            runs = {"service": [], "probe": [], "naive": []}
            costs = []
            for r in range(ROUNDS):
                offset = self.supply_offset[ep.supply] if ep.supply else 0
                # Each side goes first, second (and third) in turn, so that a drift of the machine's
                # speed during the rounds favours none of them.
                sides = ["service", "probe", "naive"] if ep.naive else ["service", "probe"]
                sides = sides[r % len(sides):] + sides[:r % len(sides)] if self.with_probe else ["service"]
                done = {}
                for side in sides:
                    # Only the service's Redis exists in `capacity` mode: look up this side's alone.
                    server = getattr(self, f"{side}_redis")
                    self.settle(server)
                    server.ctl.call("CONFIG", "RESETSTAT")
                    before = self.cpu_seconds(server)
                    result = self.run_side(ep, side, r, offset)
                    done[side] = (result, self.redis_work(server, before, result))
                    runs[side].append(result)
                    self.check(ep, side, result, offset)
                if ep.supply in CONSUMED:  # the next round takes the next ones
                    self.supply_offset[ep.supply] += THREADS * max(r.most_per_thread for r, _ in done.values())
                costs.append(self.redis_cost(ep, done["service"][1]))
                if self.with_probe and not ep.expect_error:
                    diffs = self.same_redis_work(ep, done["service"], done["probe"])
                    if diffs:
                        log(f"WARNING {ep.name}: Redis did different work for the probe: {'; '.join(diffs)}")
                        ep.warned = True
            if not ep.expect_error:
                fastest = max(fastest, median([x.rate for x in runs["service"] + runs["probe"] + runs["naive"]]))
            self.rows.append(Row(ep, runs["service"], runs["probe"], runs["naive"], costs))
            log(f"{ep.name:<34} " + ", ".join(f"{side} {median([x.rate for x in got]):>8.0f} req/s"
                                              for side, got in runs.items() if got))

    def check(self, ep, side, result, offset):
        problems = []
        if result.errors:
            problems.append(f"{result.errors} socket errors")
        expect_error = ep.expect_error
        if expect_error and result.non2xx != result.requests:
            problems.append(f"{result.requests - result.non2xx} answers were not errors")
        if not expect_error and result.non2xx:
            problems.append(f"{result.non2xx} non-2xx answers")
        if ep.supply in CONSUMED and offset + THREADS * result.most_per_thread > len(self.supply[ep.supply]):
            problems.append("ran out of seeded data to delete")
        if problems:
            log(f"WARNING {ep.name} ({side}): {'; '.join(problems)}")
            ep.warned = True

    # -- reporting --------------------------------------------------------------------------------
