"""Medians, and the goal verdicts the tables print (figures made up, the format pinned)."""

import contextlib
import io
import math
import unittest
from types import SimpleNamespace

from bench import report
from bench.settings import ROUNDS
from bench.workloads import Endpoint
from bench.wrk import WrkResult


def runs(rate):
    return [WrkResult(rate=rate, requests=100, non2xx=0, errors=0, most_per_thread=50) for _ in range(ROUNDS)]


def printed(function, bench):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        function(bench)
    return out.getvalue()


def row(ep, service, probe, naive=None, cmd_us=None):
    costs = [{"calls": 1.0, "cmd_us": cmd_us, "inner_us": 0.0, "cpu_us": 70.0}] * ROUNDS if cmd_us is not None else []
    return SimpleNamespace(ep=ep, service=runs(service), probe=runs(probe), naive=runs(naive) if naive else [],
                           costs=costs)


class Median(unittest.TestCase):
    def test_middle_and_mean_of_the_middle_two(self):
        self.assertEqual(report.median([3, 1, 2]), 2)
        self.assertEqual(report.median([4, 1, 2, 3]), 2.5)

    def test_no_runs_is_nan(self):
        self.assertTrue(math.isnan(report.median([])))


class Goals(unittest.TestCase):
    get_user = Endpoint("GET /get_user/{id}", "GET", "/get_user/1", "get_user", naive="goal")
    list_users = Endpoint("GET /list_users (1,000 users)", "GET", "/list_users", "list_users", goal="list",
                          naive="shown")
    not_found = Endpoint("GET /unknown/path (404)", "GET", "/x", "not_found", expect_error=True)

    def test_ratios_against_the_probe(self):
        bench = SimpleNamespace(rows=[row(self.get_user, 900, 1000), row(self.list_users, 300, 1000),
                                      row(self.not_found, 1000, 1000)])
        lines = printed(report.print_ratios, bench).splitlines()
        self.assertRegex(lines[4], r"^GET /get_user/\{id\} +900 +1000 +0\.90 .*≥ 0\.95× probe: MISSED by 5%$")
        self.assertRegex(lines[5], r"≥ 0\.29× get_user: 0\.33× ok$")
        self.assertRegex(lines[6], r"≥ 0\.95× answer-at-once probe: ok$")

    def test_ratios_against_the_naive_peer(self):
        bench = SimpleNamespace(rows=[row(self.get_user, 960, 500, naive=1000), row(self.list_users, 300, 1000, 100),
                                      row(self.not_found, 800, 1000)])
        lines = printed(report.print_naive, bench).splitlines()
        self.assertRegex(lines[4], r"^GET /get_user/\{id\} +960 +1000 +0\.96 .*≥ 0\.95× naive peer: MET$")
        self.assertRegex(lines[5], r"no goal \(the peer reads or writes several keys, as Flask did\)$")
        self.assertRegex(lines[6], r" 800 +1000 +0\.80 .*≥ 0\.90× answer-at-once probe: MISSED by 10%$")

    def test_the_header_session_read_against_the_peers_get_session(self):
        ep = Endpoint("GET /v1/session", "GET", "/v1/session", "v1_get_session_header", naive="goal",
                      naive_path="/get_session/bench-session", cmd_goal_us=1.0)
        bench = SimpleNamespace(rows=[row(self.get_user, 960, 500, naive=1000), row(ep, 940, 1000, naive=1000)])
        out = printed(report.print_naive, bench)
        lines = out.splitlines()
        self.assertRegex(lines[5], r"^GET /v1/session +940 +1000 +0\.94 .*"
                                   r"≥ 0\.95× naive GET /get_session/\{id\}: MISSED by 1%$")
        self.assertIn("GET /v1/session: the peer answers GET /get_session/{id} (one variable lookup, one GET).", out)
        bench.rows[1] = row(ep, 960, 1000, naive=1000)
        self.assertRegex(printed(report.print_naive, bench).splitlines()[5],
                         r"≥ 0\.95× naive GET /get_session/\{id\}: MET$")

    def test_capacity_verdict_on_the_redis_time_of_a_session_read(self):
        read = Endpoint("GET /v1/session", "GET", "/v1/session", "v1_get_session_header", cmd_goal_us=1.0)
        write = Endpoint("PATCH /v1/session", "PATCH", "/v1/session", "v1_patch_session_header")
        bench = SimpleNamespace(rows=[row(read, 1, 1, cmd_us=0.6), row(write, 1, 1, cmd_us=40.0),
                                      row(read, 1, 1, cmd_us=1.0)])
        out = printed(report.print_capacity, bench)
        lines = out.splitlines()
        self.assertRegex(lines[5], r"^GET /v1/session +1\.00 +0\.6 +0\.0 +70\.0 +1,666,667 +14,286  cmd µs < 1: MET$")
        self.assertRegex(lines[6], r"^PATCH /v1/session +1\.00 +40\.0 .* 14,286$")
        self.assertRegex(lines[7], r"  cmd µs < 1: MISSED$")
        self.assertIn("goal: reading a session by its token is one plain GET, under 1 µs", out)

    def test_capacity_without_a_goal_row_prints_no_goal_note(self):
        write = Endpoint("PATCH /v1/session", "PATCH", "/v1/session", "v1_patch_session_header")
        self.assertNotIn("goal: ", printed(report.print_capacity, SimpleNamespace(rows=[row(write, 1, 1, cmd_us=4.0)])))

    def test_a_warning_marks_its_row(self):
        ep = Endpoint("GET /get_user/{id}", "GET", "/get_user/1", "get_user")
        ep.warned = True
        self.assertIn("(!)", printed(report.print_ratios, SimpleNamespace(rows=[row(ep, 1000, 1000)])).splitlines()[4])


if __name__ == "__main__":
    unittest.main()
