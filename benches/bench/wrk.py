"""wrk runs: one Lua script builds every request, on the service's and the probe's side alike, with
up to two values per request, one taken from a file (ids, tokens or digests) and one made fresh,
each put wherever its placeholder stands: path, headers or body; the result is parsed from wrk's
report."""

import re
import subprocess
from dataclasses import dataclass

from .settings import CONNECTIONS, DURATION, FRESH, FRESH_CHARS, PLACEHOLDER, THREADS


def lua_string(s):
    """A Lua string literal (or nil): printable ASCII as it is, any other character, and `\\` and
    `"`, as Lua's decimal escape `\\ddd`, so that no value can end the literal or the script."""
    if s is None:
        return "nil"
    return '"' + "".join(c if (32 <= ord(c) < 127 and c not in '\\"') else "\\%03d" % ord(c) for c in s) + '"'


WRK_SCRIPT = """-- Written by benches/run for one wrk run.
local method, path_t, body = %(method)s, %(path)s, %(body)s
local headers_t = {%(headers)s}
local values_file, offset, stride = %(values_file)s, %(offset)d, %(stride)d
local unique_prefix = %(unique)s
local placeholder, fresh_placeholder = "%(placeholder)s", "%(fresh)s"

local threads, next_tid = {}, 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local values
counter = 0
function init(args)
  if values_file then
    values = {}
    for line in io.lines(values_file) do values[#values + 1] = line end
  end
end

local function subst(s, v, f)
  if s == nil then return nil end
  return (string.gsub(string.gsub(s, placeholder, v), fresh_placeholder, f))
end

-- Every request is built here, on both sides of an endpoint alike, so wrk's own cost is the same.
function request()
  counter = counter + 1
  local v, f = "", ""
  if values then
    -- Threads take turns, so a run uses values[offset + 1 .. offset + stride * most counter]
    -- (a file shorter than that is used again from its start).
    local i = offset + tid + stride * (counter - 1)
    v = values[(i %% #values) + 1]
  end
  if unique_prefix then
    -- Unique within the run (thread, counter) and across runs (the prefix names the round).
    f = string.format("%%s%%02d%%0%(fresh_digits)dd", unique_prefix, tid, counter)
  end
  local h = {}
  for k, x in pairs(headers_t) do h[k] = subst(x, v, f) end
  return wrk.format(method, subst(path_t, v, f), h, subst(body, v, f))
end

function done(summary, latency, requests)
  local most = 0
  for _, t in ipairs(threads) do
    local c = t:get("counter")
    if c > most then most = c end
  end
  io.write(string.format("BENCH most-requests-per-thread %%d\\n", most))
end
"""


@dataclass
class WrkResult:
    rate: float
    requests: int
    non2xx: int
    errors: int
    most_per_thread: int


def request_script(method, path, body, headers, values_file=None, offset=0, unique=None):
    """The Lua script of one wrk run: WRK_SCRIPT with this request filled in. PLACEHOLDER stands
    for the request's value from `values_file` (one a line, from line `offset` + 1 on), FRESH for
    a value made fresh per request: `unique` (a short prefix naming the run), the thread and the
    request's number, FRESH_CHARS characters in all."""
    return WRK_SCRIPT % {
        "method": lua_string(method), "path": lua_string(path), "body": lua_string(body),
        "headers": ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()),
        "values_file": lua_string(str(values_file)) if values_file else "nil",
        "offset": offset, "stride": THREADS, "unique": lua_string(unique),
        "placeholder": PLACEHOLDER, "fresh": FRESH, "fresh_digits": FRESH_CHARS - len(unique or "") - 2,
    }


def parse_report(out):
    """A run's figures from what wrk printed, the script's `done` line included; a line wrk leaves
    out when it has nothing to say (no errors, no non-2xx answers) counts as 0."""

    def number(pattern, default=0.0):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else default

    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in m.groups()) if m else 0
    return WrkResult(
        rate=number(r"Requests/sec:\s+([\d.]+)"),
        requests=int(number(r"(\d+) requests in")),
        non2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        errors=errors,
        most_per_thread=int(number(r"BENCH most-requests-per-thread (\d+)")))


def run_wrk(workdir, url, method, path, body, headers, values_file=None, offset=0,
            unique=None, duration=DURATION):
    script = workdir / "request.lua"
    script.write_text(request_script(method, path, body, headers, values_file, offset, unique))
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "-s", str(script), url],
        capture_output=True, text=True, check=True).stdout
    return parse_report(out)
