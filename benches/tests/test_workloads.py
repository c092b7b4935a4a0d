"""Which endpoints a run measures, and the probe's command header."""

import unittest
from unittest import mock

from bench import workloads
from bench.monitor import Capture, digest
from bench.settings import FRESH, PLACEHOLDER

SEED = {"uid": 500, "sid": "bench-session", "tok": "T0k", "session_owner": 3}


def names(eps):
    return [e.name for e in eps]


class Selection(unittest.TestCase):
    def test_no_filter_measures_every_endpoint(self):
        with mock.patch.object(workloads, "ONLY", []):
            self.assertEqual(workloads.selected(workloads.endpoints(SEED)), workloads.endpoints(SEED))

    def test_filter_by_substring(self):
        with mock.patch.object(workloads, "ONLY", ["get_session", "404"]):
            self.assertEqual(names(workloads.selected(workloads.endpoints(SEED))),
                             ["GET /get_session/{id}", "GET /unknown/path (404)"])

    def test_the_session_endpoints_of_issue_15(self):
        with mock.patch.object(workloads, "ONLY", ["v1/session"]):
            self.assertEqual(names(workloads.selected(workloads.endpoints(SEED))), [
                "GET /v1/session", "GET /v1/sessions/{token}", "PATCH /v1/session", "PATCH /v1/sessions/{token}",
                "POST /v1/sessions", "POST /v1/sessions (user at cap)", "POST /v1/session/rotate",
                "DELETE /v1/session", "DELETE /v1/sessions/{token}"])

    def test_list_users_brings_get_user_its_goal_is_relative_to(self):
        with mock.patch.object(workloads, "ONLY", ["list"]):
            self.assertEqual(names(workloads.selected(workloads.endpoints(SEED))),
                             ["GET /get_user/{id}", "GET /list_users (1,000 users)"])


def by_name(name):
    return next(e for e in workloads.endpoints(SEED) if e.name == name)


class Endpoints(unittest.TestCase):
    def test_an_endpoint_takes_a_value_per_request_where_it_has_a_supply(self):
        for ep in workloads.endpoints(SEED):
            where = [ep.path, ep.body or ""] + list(ep.headers.values())
            self.assertEqual(any(PLACEHOLDER in w for w in where), ep.supply is not None, ep.name)

    def test_each_consumed_supply_is_a_delete_or_a_rotation(self):
        for ep in workloads.endpoints(SEED):
            if ep.supply in workloads.CONSUMED:
                self.assertTrue(ep.method == "DELETE" or ep.name.endswith("/rotate"), ep.name)

    def test_names_are_unique(self):
        got = names(workloads.endpoints(SEED))
        self.assertEqual(len(got), len(set(got)))

    def test_the_header_form_carries_the_token_in_a_header_only(self):
        for name in ("GET /v1/session", "PATCH /v1/session", "POST /v1/session/rotate", "DELETE /v1/session"):
            ep = by_name(name)
            self.assertTrue(ep.path.startswith("/v1/session") and not ep.path.startswith("/v1/sessions"), name)
            self.assertNotIn(SEED["tok"], ep.path)
            self.assertNotIn(PLACEHOLDER, ep.path)
            self.assertIn(ep.headers["X-Session-Token"], (SEED["tok"], PLACEHOLDER), name)
        self.assertEqual(by_name("PATCH /v1/session").body, by_name("PATCH /v1/sessions/{token}").body)
        self.assertEqual(by_name("PATCH /v1/session").headers["Content-Type"], "application/json")

    def test_the_session_read_is_held_to_the_naive_get_session_and_one_get(self):
        ep = by_name("GET /v1/session")
        self.assertEqual((ep.naive, ep.naive_path, ep.cmd_goal_us), ("goal", "/get_session/bench-session", 1.0))
        self.assertEqual(by_name("GET /v1/sessions/{token}").cmd_goal_us, 1.0)
        self.assertEqual([e.name for e in workloads.endpoints(SEED) if e.naive_path], ["GET /v1/session"])

    def test_logins_are_spread_over_users_but_one_row_keeps_one_user_at_the_cap(self):
        spread, at_cap = by_name("POST /v1/sessions"), by_name("POST /v1/sessions (user at cap)")
        self.assertEqual(spread.supply, "session_users")
        self.assertIn(f'"user_id":{PLACEHOLDER},', spread.body)
        self.assertEqual((at_cap.supply, at_cap.values), (None, {"uid": 3}))
        self.assertIn('"user_id":3,', at_cap.body)

    def test_supply_needs_counts_the_endpoints_consuming_each(self):
        self.assertEqual(workloads.supply_needs(workloads.endpoints(SEED)), {"users": 2, "sessions": 3})
        self.assertEqual(workloads.supply_needs([by_name("GET /v1/session")]), {"users": 0, "sessions": 0})


class ProbeValues(unittest.TestCase):
    """What the probe is handed in place of each of the service's per-request values."""
    # A made-up capture of a rotation: the old token's digest in, a new one written.
    rotate = Capture([[b"EVALSHA", b"abc", b"2", b"session_record:{tok#sha256}", b"session_record:{new#sha256}",
                       b"{new#sha256}"]])

    def test_a_fixed_session_is_its_digest(self):
        got = workloads.probe_values(by_name("GET /v1/session"))
        self.assertEqual(got, {"tok": "T0k", "digests": {}})
        self.assertEqual(Capture([[b"GET", b"session_record:{tok#sha256}"]]).render(**got),
                         [[b"GET", b"session_record:" + digest("T0k")]])

    def test_a_consumed_session_is_the_digest_from_the_probes_file(self):
        got = workloads.probe_values(by_name("DELETE /v1/session"))
        self.assertEqual(got, {"tok": PLACEHOLDER, "digests": {"tok": PLACEHOLDER}})
        self.assertEqual(workloads.probe_values(by_name("DELETE /v1/sessions/{token}")), got)

    def test_a_rotation_reads_a_digest_from_the_file_and_writes_a_fresh_one(self):
        got = workloads.probe_values(by_name("POST /v1/session/rotate"))
        self.assertEqual(self.rotate.render(**got), [[
            b"EVALSHA", b"abc", b"2", f"session_record:{PLACEHOLDER}".encode(), f"session_record:{FRESH}".encode(),
            FRESH.encode()]])

    def test_a_login_names_the_user_from_the_file_and_a_fresh_digest(self):
        got = workloads.probe_values(by_name("POST /v1/sessions"))
        self.assertEqual(got, {"uid": PLACEHOLDER, "tok": FRESH, "digests": {"tok": FRESH}})
        self.assertEqual(workloads.probe_values(by_name("POST /v1/sessions (user at cap)")),
                         {"uid": 3, "tok": FRESH, "digests": {"tok": FRESH}})

    def test_a_user_to_delete_is_the_id_from_the_file(self):
        self.assertEqual(workloads.probe_values(by_name("DELETE /v1/users/{id}")), {"uid": PLACEHOLDER, "digests": {}})


class ProbeHeader(unittest.TestCase):
    def test_arguments_are_percent_encoded_and_commands_separated(self):
        self.assertEqual(workloads.probe_header([[b"GET", b"user:1"], [b"SET", b"k", b"a b;c"]]),
                         ":GET :user%3A1;:SET :k :a%20b%3Bc")


if __name__ == "__main__":
    unittest.main()
