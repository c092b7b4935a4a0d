"""Learning what the service sends to Redis: MONITOR's output parsed back into commands, the
commands of one request turned into a template (`Capture`) that can be replayed for other ids and
tokens, and the Lua scripts seen on the way (`Scripts`)."""

import base64
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field

from .redis_client import Resp, as_bytes

# Commands a client library may send when it connects; not part of an endpoint's work, and sent
# by Spin itself for the probe as well.
CONNECTION_SETUP = {"CLIENT", "HELLO", "SELECT", "AUTH", "QUIT", "READONLY"}

_MONITOR_LINE = re.compile(r"^\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$")
_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b", "\\": b"\\", '"': b'"'}


def parse_monitor_args(text):
    """Splits MONITOR's rendering of a command (`"SET" "k" "a\\"b"`) back into its arguments."""
    args, i = [], 0
    while i < len(text):
        if text[i] != '"':
            i += 1
            continue
        i += 1
        arg = bytearray()
        while text[i] != '"':
            c = text[i]
            if c == "\\":
                nxt = text[i + 1]
                if nxt == "x":
                    arg.append(int(text[i + 2:i + 4], 16))
                    i += 4
                    continue
                arg += _ESCAPES.get(nxt, nxt.encode())
                i += 2
                continue
            arg += c.encode()
            i += 1
        args.append(bytes(arg))
        i += 1
    return args


class Monitor:
    """Collects what a Redis runs (MONITOR) on a thread; `between` slices it by ECHO markers."""

    def __init__(self, server):
        self.conn = Resp(server.port)
        self.conn.call("MONITOR")
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                line = self.conn.file.readline()
                if not line:
                    return
                m = _MONITOR_LINE.match(line[1:-2].decode("utf-8", "surrogateescape"))
                if m:
                    with self.lock:
                        self.lines.append((m.group(1), parse_monitor_args(m.group(2))))
        except (OSError, ValueError):
            return

    def between(self, begin, end, timeout=5):
        """Commands clients ran between two `ECHO <marker>` lines, without those inside scripts."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                lines = list(self.lines)
            markers = [i for i, (_, a) in enumerate(lines) if a[:1] == [b"ECHO"] and a[1:] in ([begin], [end])]
            if len(markers) == 2:
                inside = lines[markers[0] + 1:markers[1]]
                return [args for client, args in inside if client != "lua"]
            if time.time() > deadline:
                raise RuntimeError("MONITOR did not show the markers")
            time.sleep(0.02)

    def close(self):
        self.conn.close()


# --------------------------------------------------------------------------------------------
# What the service sends to Redis, learned by watching it, and turned into templates.


@dataclass
class Capture:
    """The commands the service sent for one request, with the request's variable part (a user id
    or a session id) replaced by `{name}` placeholders so that they can be replayed for others."""
    commands: list
    setup: list = field(default_factory=list)   # connection-setup commands seen (not replayed)

    def render(self, digests=None, **values):
        """The commands for other values: `{name}` becomes the value, `{name#sha256}` its digest.
        `digests` gives the text of some `{name#sha256}` directly instead (a wrk placeholder that
        stands for a digest: wrk cannot compute one)."""
        digests = digests or {}
        out = []
        for cmd in self.commands:
            new = []
            for arg in cmd:
                for name, text in digests.items():
                    arg = arg.replace(b"{" + name.encode() + b"#sha256}", as_bytes(text))
                for name, value in values.items():
                    if not as_bytes(value).isdigit():
                        arg = arg.replace(b"{" + name.encode() + b"#sha256}", digest(value))
                    arg = arg.replace(b"{" + name.encode() + b"}", as_bytes(value))
                new.append(arg)
            out.append(new)
        return out

    def carries(self, name):
        """Whether the request's `name` itself (not its digest) is in a command: for a session
        token, what issue 15 forbids (no /v1 command may carry a token)."""
        mark = b"{" + name.encode() + b"}"
        return any(mark in arg for cmd in self.commands for arg in cmd[1:])

    def describe(self):
        parts = []
        for cmd in self.commands:
            shown = [a.decode("utf-8", "replace") for a in cmd[:6]]
            if cmd[0].upper() == b"EVALSHA":
                shown[1] = shown[1][:10] + "…"
            parts.append(" ".join(shown) + (" …" if len(cmd) > 6 else ""))
        return "; ".join(parts) or "(no Redis command)"


class Scripts:
    """Lua script bodies seen (EVAL / SCRIPT LOAD), by SHA-1, to load into the probe's Redis."""

    def __init__(self):
        self.bodies = {}

    def normalise(self, commands):
        """EVAL → EVALSHA of the same body; a failed EVALSHA followed by its EVAL fallback (Redis
        had not cached the script yet) is one command; SCRIPT LOAD only teaches us a body."""
        out = []
        for cmd in commands:
            name = cmd[0].upper()
            if name == b"SCRIPT" and len(cmd) > 2 and cmd[1].upper() == b"LOAD":
                self.bodies[hashlib.sha1(cmd[2]).hexdigest()] = cmd[2]
                continue
            if name == b"EVAL":
                sha = hashlib.sha1(cmd[1]).hexdigest()
                self.bodies[sha] = cmd[1]
                cmd = [b"EVALSHA", sha.encode()] + cmd[2:]
                if out and out[-1][0].upper() == b"EVALSHA" and out[-1][1:] == cmd[1:]:
                    out.pop()
            out.append(cmd)
        return out

    def check(self, commands):
        for cmd in commands:
            if cmd[0].upper() == b"EVALSHA" and cmd[1].decode().lower() not in self.bodies:
                raise RuntimeError(f"the service ran script {cmd[1].decode()} whose body was never seen")
            if cmd[0].upper() in (b"FCALL", b"FCALL_RO"):
                raise RuntimeError("the service uses Redis functions (FCALL): teach benches/run to FUNCTION LOAD them")

    def load_into(self, server):
        for body in self.bodies.values():
            server.ctl.call("SCRIPT", "LOAD", body)


def digest(value):
    """How the service names a secret in Redis: the unpadded base64url of its SHA-256."""
    return base64.urlsafe_b64encode(hashlib.sha256(as_bytes(value)).digest()).rstrip(b"=")


def templated(commands, **variables):
    """Replaces each variable's value in the arguments with `{name}`, and the value's digest (a
    session token as the service stores it) with `{name#sha256}`. Numbers (user ids) only where
    they stand alone, not inside other words or numbers (`user:7373` yes, `a7373b`, `17373` no).
    wrk cannot compute a digest, so a probe placeholder that changes per request (a fresh token)
    keeps one digest for the whole run: a fair stand-in for writing a new key, not an identical one."""
    out = []
    for cmd in commands:
        new = [cmd[0]]
        for arg in cmd[1:]:
            for name, value in variables.items():
                value = as_bytes(value)
                if value.isdigit():
                    arg = re.sub(rb"(?<![0-9A-Za-z])" + value + rb"(?![0-9A-Za-z])", b"{" + name.encode() + b"}", arg)
                else:
                    arg = arg.replace(digest(value), b"{" + name.encode() + b"#sha256}")
                    arg = arg.replace(value, b"{" + name.encode() + b"}")
            new.append(arg)
        out.append(new)
    return out

