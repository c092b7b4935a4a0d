"""The requests measured: each endpoint's method, path and body, which captured request the
probe replays for it, and which goal its row is held to; and how the probe is told what to run."""

import urllib.parse
from dataclasses import dataclass, field

from .settings import LIST_USERS, ONLY, PLACEHOLDER

JSON = {"Content-Type": "application/json"}


@dataclass
class Endpoint:
    name: str                 # as printed
    method: str
    path: str                 # may hold PLACEHOLDER (a value per request, from `supply`)
    capture: str              # the captured request of this endpoint (what the probe replays)
    body: str = None
    headers: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)   # the capture's placeholders fixed for this run
    supply: str = None        # "users" / "sessions": each request consumes a different one
    unique: str = None        # probe placeholder given a fresh value per request (service makes its own)
    expect_error: bool = False  # 404 / 405: non-2xx answers are what is measured, and the probe
                                # is the one that answers at once (/now)
    goal: str = "probe"       # "probe": ≥ 0.95× its probe; "list": ≥ 0.29× the service's get_user
    naive: str = ""           # an original endpoint, also run on the naive peer (benches/naive):
                              # "goal": single-key, ≥ 0.95× the peer; "shown": no goal (the peer
                              # uses several keys, as the Flask service did)


def endpoints(seed):
    uid, sid, tok = seed["uid"], seed["sid"], seed["tok"]
    return [
        Endpoint("GET /get_user/{id}", "GET", f"/get_user/{uid}", "get_user", values={"uid": uid}, naive="goal"),
        Endpoint("GET /get_session/{id}", "GET", f"/get_session/{sid}", "get_session", values={"sid": sid},
                 naive="goal"),
        Endpoint("GET /v1/users/{id}", "GET", f"/v1/users/{uid}", "v1_get_user", values={"uid": uid}),
        Endpoint("PATCH /v1/users/{id}", "PATCH", f"/v1/users/{uid}", "v1_patch_user",
                 body='{"prenom":"Janet"}', headers=JSON, values={"uid": uid}),
        Endpoint("GET /v1/sessions/{token}", "GET", f"/v1/sessions/{tok}", "v1_get_session", values={"tok": tok}),
        Endpoint("PATCH /v1/sessions/{token}", "PATCH", f"/v1/sessions/{tok}", "v1_patch_session",
                 body='{"data":{"theme":"clair"},"ttl_seconds":3600}', headers=JSON, values={"tok": tok}),
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
        Endpoint("POST /v1/sessions", "POST", "/v1/sessions", "v1_create_session",
                 body=f'{{"user_id":{seed["session_owner"]},"data":{{"theme":"sombre"}},"ttl_seconds":3600}}',
                 headers=JSON, values={"uid": seed["session_owner"]}, unique="tok"),
        Endpoint("DELETE /delete_user/{id}", "DELETE", f"/delete_user/{PLACEHOLDER}", "delete_user", supply="users",
                 naive="goal"),
        Endpoint("DELETE /v1/users/{id}", "DELETE", f"/v1/users/{PLACEHOLDER}", "v1_delete_user", supply="users"),
        Endpoint("DELETE /v1/sessions/{token}", "DELETE", f"/v1/sessions/{PLACEHOLDER}", "v1_delete_session",
                 supply="sessions"),
    ]


def selected(eps):
    if not ONLY:
        return eps
    chosen = [e for e in eps if any(s in e.name for s in ONLY)]
    # The list_users goal is relative to get_user: measure it too.
    if any(e.goal == "list" for e in chosen) and not any(e.capture == "get_user" for e in chosen):
        chosen.insert(0, next(e for e in eps if e.capture == "get_user"))
    return chosen


def probe_header(commands):
    """The probe's `probe-command` header (see probe/src/lib.rs): `:GET :user%3A1;...`."""
    return ";".join(" ".join(":" + urllib.parse.quote(a, safe="") for a in cmd) for cmd in commands)

