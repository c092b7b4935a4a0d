"""The requests measured: each endpoint's method, path and body, which captured request the
probe replays for it, and which goal its row is held to; and how the probe is told what to run."""

import urllib.parse
from dataclasses import dataclass, field

from .settings import FRESH, LIST_USERS, ONLY, PLACEHOLDER

JSON = {"Content-Type": "application/json"}


@dataclass
class Endpoint:
    name: str                 # as printed
    method: str
    path: str                 # may hold PLACEHOLDER (a value per request, from `supply`)
    capture: str              # the captured request of this endpoint (what the probe replays)
    body: str = None
    headers: dict = field(default_factory=dict)   # may hold PLACEHOLDER too
    values: dict = field(default_factory=dict)   # the capture's placeholders fixed for this run
    supply: str = None        # a value per request, from a file: "users" / "sessions" (each
                              # request consumes a different one: ids to delete, tokens to delete
                              # or rotate; the probe gets the tokens' digests), "session_users"
                              # (users 1..LIST_USERS in turn, not consumed)
    unique: str = None        # probe placeholder given a fresh value per request (service makes its own)
    expect_error: bool = False  # 404 / 405: non-2xx answers are what is measured, and the probe
                                # is the one that answers at once (/now)
    goal: str = "probe"       # "probe": ≥ 0.95× its probe; "list": ≥ 0.29× the service's get_user
    naive: str = ""           # also run on the naive peer (benches/naive): "goal": ≥ 0.95× the
                              # peer; "shown": no goal (the peer uses several keys, as Flask did)
    naive_path: str = None    # the peer's request when it is not the same as the service's
    cmd_goal_us: float = None  # goal for the Redis command time per request (capacity table)


# Which supplies each request consumes (the others are used again from their start).
CONSUMED = ("users", "sessions")
# The variable of the captured request that a supply's value stands for.
SUPPLY_VARIABLE = {"users": "uid", "sessions": "tok", "session_users": "uid"}

TOKEN = "X-Session-Token"     # the header form's request header (issue 15)
SESSION_PATCH = '{"data":{"theme":"clair"},"ttl_seconds":3600}'


def endpoints(seed):
    uid, sid, tok = seed["uid"], seed["sid"], seed["tok"]
    new_session = '{"user_id":%s,"data":{"theme":"sombre"},"ttl_seconds":3600}'
    return [
        Endpoint("GET /get_user/{id}", "GET", f"/get_user/{uid}", "get_user", values={"uid": uid}, naive="goal"),
        Endpoint("GET /get_session/{id}", "GET", f"/get_session/{sid}", "get_session", values={"sid": sid},
                 naive="goal"),
        Endpoint("GET /v1/users/{id}", "GET", f"/v1/users/{uid}", "v1_get_user", values={"uid": uid}),
        Endpoint("PATCH /v1/users/{id}", "PATCH", f"/v1/users/{uid}", "v1_patch_user",
                 body='{"prenom":"Janet"}', headers=JSON, values={"uid": uid}),
        # Issue 15: the session read by its token in a header is one GET, at ≥ 0.95× the naive
        # peer's GET /get_session/{id} (one variable lookup, one GET), under 1 µs of Redis time.
        Endpoint("GET /v1/session", "GET", "/v1/session", "v1_get_session_header", headers={TOKEN: tok},
                 values={"tok": tok}, naive="goal", naive_path=f"/get_session/{sid}", cmd_goal_us=1.0),
        Endpoint("GET /v1/sessions/{token}", "GET", f"/v1/sessions/{tok}", "v1_get_session", values={"tok": tok},
                 cmd_goal_us=1.0),
        Endpoint("PATCH /v1/session", "PATCH", "/v1/session", "v1_patch_session_header", body=SESSION_PATCH,
                 headers={**JSON, TOKEN: tok}, values={"tok": tok}),
        Endpoint("PATCH /v1/sessions/{token}", "PATCH", f"/v1/sessions/{tok}", "v1_patch_session",
                 body=SESSION_PATCH, headers=JSON, values={"tok": tok}),
        Endpoint("GET /unknown/path (404)", "GET", "/bench/no/such/path", "not_found", expect_error=True),
        Endpoint("POST /get_user/{id} (405)", "POST", f"/get_user/{uid}", "method_not_allowed", expect_error=True),
        Endpoint(f"GET /list_users ({LIST_USERS:,} users)", "GET", "/list_users", "list_users", goal="list",
                 naive="shown"),
        Endpoint("POST /create_user", "POST", "/create_user", "create_user",
                 body='{"nom":"Doe","prenom":"John"}', headers=JSON, naive="shown"),
        Endpoint("POST /create_session", "POST", "/create_session", "create_session",
                 body='{"session_id":"bench-created-session","data":{"theme":"sombre"}}', headers=JSON,
                 values={"sid": "bench-created-session"}, naive="goal"),
        Endpoint("POST /v1/users", "POST", "/v1/users", "v1_create_user",
                 body='{"nom":"Doe","prenom":"Jane"}', headers=JSON),
        # A login: each request a session for the next of the LIST_USERS users (but the one at the
        # cap), who each have a session already and stay under the per-user cap (a run makes a few
        # dozen each), so nothing is evicted.
        Endpoint("POST /v1/sessions", "POST", "/v1/sessions", "v1_create_session",
                 body=new_session % PLACEHOLDER, headers=JSON, supply="session_users", unique="tok"),
        # The same for one user again and again, seeded to the per-user cap (default 100): each
        # creation evicts the user's oldest session.
        Endpoint("POST /v1/sessions (user at cap)", "POST", "/v1/sessions", "v1_create_session",
                 body=new_session % seed["session_owner"], headers=JSON, values={"uid": seed["session_owner"]},
                 unique="tok"),
        Endpoint("POST /v1/session/rotate", "POST", "/v1/session/rotate", "v1_rotate_session",
                 headers={TOKEN: PLACEHOLDER}, supply="sessions", unique="new"),
        Endpoint("DELETE /delete_user/{id}", "DELETE", f"/delete_user/{PLACEHOLDER}", "delete_user", supply="users",
                 naive="goal"),
        Endpoint("DELETE /v1/users/{id}", "DELETE", f"/v1/users/{PLACEHOLDER}", "v1_delete_user", supply="users"),
        Endpoint("DELETE /v1/session", "DELETE", "/v1/session", "v1_delete_session_header",
                 headers={TOKEN: PLACEHOLDER}, supply="sessions"),
        Endpoint("DELETE /v1/sessions/{token}", "DELETE", f"/v1/sessions/{PLACEHOLDER}", "v1_delete_session",
                 supply="sessions"),
    ]


def supply_needs(eps):
    """How many endpoints consume each supply (each needs its own share of it)."""
    return {kind: sum(1 for e in eps if e.supply == kind) for kind in CONSUMED}


def selected(eps):
    if not ONLY:
        return eps
    chosen = [e for e in eps if any(s in e.name for s in ONLY)]
    # The list_users goal is relative to get_user: measure it too.
    if any(e.goal == "list" for e in chosen) and not any(e.capture == "get_user" for e in chosen):
        chosen.insert(0, next(e for e in eps if e.capture == "get_user"))
    return chosen


def probe_values(ep):
    """How the probe's commands are rendered from the endpoint's capture: its fixed values, and
    wrk's placeholders for what changes per request. A supply's value (PLACEHOLDER) stands for
    the variable it replaces; for sessions, the probe's file holds the tokens' digests, so
    PLACEHOLDER stands for the digest. A value the service makes itself (a new token: `unique`)
    is a fresh value made by wrk (FRESH), in place of its digest. Keyword arguments of
    `Capture.render`."""
    values, digests = dict(ep.values), {}
    if ep.supply:
        values[SUPPLY_VARIABLE[ep.supply]] = PLACEHOLDER
        if ep.supply == "sessions":
            digests["tok"] = PLACEHOLDER
    if ep.unique:
        values[ep.unique] = FRESH
        digests[ep.unique] = FRESH
    return dict(values, digests=digests)


def probe_header(commands):
    """The probe's `probe-command` header (see probe/src/lib.rs): `:GET :user%3A1;...`."""
    return ";".join(" ".join(":" + urllib.parse.quote(a, safe="") for a in cmd) for cmd in commands)

