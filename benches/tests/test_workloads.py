"""Which endpoints a run measures, and the probe's command header."""

import unittest
from unittest import mock

from bench import workloads
from bench.settings import PLACEHOLDER

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

    def test_list_users_brings_get_user_its_goal_is_relative_to(self):
        with mock.patch.object(workloads, "ONLY", ["list"]):
            self.assertEqual(names(workloads.selected(workloads.endpoints(SEED))),
                             ["GET /get_user/{id}", "GET /list_users (1,000 users)"])


class Endpoints(unittest.TestCase):
    def test_each_delete_takes_a_value_per_request(self):
        for ep in workloads.endpoints(SEED):
            self.assertEqual(PLACEHOLDER in ep.path, ep.supply is not None, ep.name)

    def test_names_are_unique(self):
        got = names(workloads.endpoints(SEED))
        self.assertEqual(len(got), len(set(got)))


class ProbeHeader(unittest.TestCase):
    def test_arguments_are_percent_encoded_and_commands_separated(self):
        self.assertEqual(workloads.probe_header([[b"GET", b"user:1"], [b"SET", b"k", b"a b;c"]]),
                         ":GET :user%3A1;:SET :k :a%20b%3Bc")


if __name__ == "__main__":
    unittest.main()
