"""Redis for the benchmark: a private redis-server per app, and a tiny RESP2 client to seed,
inspect and watch it (no third-party package: the benchmark needs the standard library only)."""

import socket
import subprocess
import time

from .system import free_port


class RedisError(Exception):
    pass


def as_bytes(x):
    """A command argument as Redis receives it: bytes as they are, anything else as its text."""
    if isinstance(x, bytes):
        return x
    return str(x).encode()


def encode_command(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = as_bytes(a)
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Resp:
    """A minimal RESP2 client: enough to seed, inspect and watch a Redis."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    @property
    def address(self):
        host, port = self.sock.getsockname()
        return f"{host}:{port}"

    def read(self):
        line = self.file.readline()
        if not line:
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RedisError(f"unexpected reply {line!r}")

    def call(self, *args):
        self.sock.sendall(encode_command(args))
        reply = self.read()
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def pipeline(self, commands, chunk=2000, encoded=False):
        """Sends many commands (argument lists, or already `encoded`), `chunk` at a time, and
        returns their replies (errors included)."""
        replies = []
        for i in range(0, len(commands), chunk):
            part = commands[i:i + chunk]
            self.sock.sendall(b"".join(part if encoded else (encode_command(c) for c in part)))
            replies.extend(self.read() for _ in part)
        return replies

    def info(self, section):
        text = self.call("INFO", section).decode()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))

    def close(self):
        self.sock.close()


class RedisServer:
    """A redis-server of our own on a free loopback port, never persisted, stopped at the end."""

    def __init__(self, workdir, name):
        self.port = free_port()
        self.name = name
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--logfile", str(workdir / f"{name}.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                self.ctl = Resp(self.port)
                self.ctl.call("PING")
                break
            except (OSError, RedisError):
                if time.time() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not start")
                time.sleep(0.05)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def stop(self):
        try:
            self.ctl.close()
        except OSError:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
