"""The wrk request script and the reading of wrk's report; one test runs the script in real wrk."""

import http.server
import re
import shutil
import tempfile
import threading
import unittest
from pathlib import Path

from bench.settings import FRESH, FRESH_CHARS, PLACEHOLDER, THREADS
from bench.wrk import lua_string, parse_report, request_script, run_wrk

# What wrk 4.2 printed for a 1 s run against a server answering 404, and the script's `done` line.
REPORT = """Running 1s test @ http://127.0.0.1:38123/nope
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.08ms    3.05ms  21.25ms   70.62%
    Req/Sec   510.52    219.06     1.20k    85.71%
  1067 requests in 1.10s, 541.84KB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 1067
Requests/sec:    969.84
Transfer/sec:    492.50KB
BENCH most-requests-per-thread 540
"""


class LuaString(unittest.TestCase):
    def test_printable_ascii_stays(self):
        self.assertEqual(lua_string("/get_user/7"), '"/get_user/7"')

    def test_quote_backslash_and_non_ascii_are_decimal_escapes(self):
        self.assertEqual(lua_string('a"b\\c\né'), '"a\\034b\\092c\\010\\233"')

    def test_none_is_nil(self):
        self.assertEqual(lua_string(None), "nil")


class Script(unittest.TestCase):
    def test_the_request_is_filled_in(self):
        script = request_script("PATCH", "/v1/users/7", '{"prenom":"Janet"}', {"Content-Type": "application/json"})
        self.assertIn('local method, path_t, body = "PATCH", "/v1/users/7", "{\\034prenom\\034:\\034Janet\\034}"',
                      script)
        self.assertIn('local headers_t = {["Content-Type"] = "application/json"}', script)
        self.assertIn(f"local values_file, offset, stride = nil, 0, {THREADS}", script)
        self.assertIn(f'local placeholder, fresh_placeholder = "{PLACEHOLDER}", "{FRESH}"', script)

    def test_no_template_marker_is_left(self):
        script = request_script("GET", "/", None, {}, "values.txt", 5, "r01")
        self.assertNotRegex(script, r"%\(|%%")
        # Lua's own format string survives the template, one % each, and makes a fresh value as
        # long as a digest: the prefix, two digits of thread, the rest the request's number.
        self.assertEqual(FRESH_CHARS, 43)
        self.assertIn('string.format("%s%02d%038d", unique_prefix, tid, counter)', script)


class Report(unittest.TestCase):
    def test_every_figure(self):
        got = parse_report(REPORT)
        self.assertEqual((got.rate, got.requests, got.non2xx, got.errors, got.most_per_thread),
                         (969.84, 1067, 1067, 5, 540))

    def test_lines_wrk_leaves_out_count_as_zero(self):
        got = parse_report(re.sub(r".*(Socket errors|Non-2xx).*\n", "", REPORT))
        self.assertEqual((got.non2xx, got.errors), (0, 0))


class Paths(http.server.BaseHTTPRequestHandler):
    """Answers 204 and remembers each request's path and body."""
    protocol_version = "HTTP/1.1"
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Paths.seen.append((self.path, body, self.headers.get("X-V")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # wrk drops its connections when the run ends


@unittest.skipUnless(shutil.which("wrk"), "wrk is not on the PATH")
class RealWrk(unittest.TestCase):
    """The script as wrk runs it: the placeholder is replaced in the path, the body and the headers."""

    def setUp(self):
        Paths.seen = []
        self.server = QuietServer(("127.0.0.1", 0), Paths)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.dir = Path(tempfile.mkdtemp(prefix="bench-test-wrk-"))

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.dir)

    def run_once(self, path=f"/x/{PLACEHOLDER}", body=f"v={PLACEHOLDER}", headers=None, **kwargs):
        return run_wrk(self.dir, self.url, "POST", path, body, headers or {"X-V": PLACEHOLDER}, duration=1, **kwargs)

    def values_file(self, offset=0):
        values = [f"{i:06d}" for i in range(200_000)]
        (self.dir / "values.txt").write_text("\n".join(values) + "\n")
        return self.dir / "values.txt"

    def test_values_from_a_file_each_used_once(self):
        result = self.run_once(values_file=self.values_file(), offset=10)
        self.assertGreater(result.requests, 0)
        self.assertEqual((result.non2xx, result.errors), (0, 0))
        used = [path.removeprefix("/x/") for path, _, _ in Paths.seen]
        self.assertEqual(len(used), len(set(used)), "a value was used twice")
        self.assertTrue(all(int(v) >= 10 for v in used), "a value before the offset was used")
        for path, body, header in Paths.seen:
            v = path.removeprefix("/x/")
            self.assertEqual((body, header), (f"v={v}".encode(), v))
        # The next run starts after the values this one could have used.
        self.assertLessEqual(max(int(v) for v in used), 10 + THREADS * result.most_per_thread - 1)

    def test_a_value_in_a_header_only(self):
        # The header form of the session endpoints: the token in X-Session-Token, a fixed path.
        self.run_once(path="/v1/session/rotate", body=None, values_file=self.values_file())
        self.assertGreater(len(Paths.seen), 0)
        self.assertEqual({(path, body) for path, body, _ in Paths.seen}, {("/v1/session/rotate", b"")})
        used = [header for _, _, header in Paths.seen]
        self.assertEqual(len(used), len(set(used)), "a value was used twice")
        self.assertTrue(all(re.fullmatch(r"\d{6}", v) for v in used), used[:3])

    def test_a_fresh_value_per_request(self):
        self.run_once(path=f"/x/{FRESH}", headers={"X-V": FRESH}, unique="r03")
        used = [path.removeprefix("/x/") for path, _, _ in Paths.seen]
        self.assertGreater(len(used), 0)
        self.assertEqual(len(used), len(set(used)))
        for path, body, header in Paths.seen:
            v = path.removeprefix("/x/")
            self.assertRegex(v, r"^r03\d{2}\d{38}$")
            self.assertEqual(len(v), FRESH_CHARS)
            self.assertEqual((header, body), (v, b"v="), "PLACEHOLDER with no file is empty")

    def test_a_value_from_a_file_and_a_fresh_one_in_one_request(self):
        # The probe's rotation: the old token's digest from the file, the new one made fresh.
        self.run_once(headers={"X-V": f"{PLACEHOLDER} {FRESH}"}, body=f"{FRESH}", values_file=self.values_file(),
                      unique="r07")
        self.assertGreater(len(Paths.seen), 0)
        fresh = set()
        for path, body, header in Paths.seen:
            v = path.removeprefix("/x/")
            self.assertEqual(header, f"{v} {body.decode()}")
            self.assertRegex(body.decode(), r"^r07\d{40}$")
            fresh.add(body)
        self.assertEqual(len(fresh), len(Paths.seen))


if __name__ == "__main__":
    unittest.main()
