"""What the run needs from the machine: progress messages, free loopback ports, a scratch directory
with the processes started in it, and the CPU time of a process tree (for `parts`)."""

import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def processes():
    """Every process: its parent's pid and its CPU ticks so far (utime + stime), from
    /proc/<pid>/stat."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        procs[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return procs


def children(pid):
    """The processes whose parent is `pid`."""
    return [child for child, (parent, _) in processes().items() if parent == pid]


def cpu_seconds_of_tree(pid):
    """utime + stime of a process and of every process below it (`spin up` runs its trigger as a
    child process)."""
    procs = processes()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += procs.get(p, (0, 0))[1]
        todo += [child for child, (parent, _) in procs.items() if parent == p]
    return total / CLOCK_TICKS


class Scratch:
    """A scratch directory and what was started in it (Spin apps, Redis servers): `stop` stops them,
    last started first, then removes the directory, unless `BENCH_KEEP` is set (to read their logs)."""

    def __init__(self, prefix):
        self.workdir = Path(tempfile.mkdtemp(prefix=prefix))
        self.stoppable = []

    def keep(self, thing):
        self.stoppable.append(thing)
        return thing

    def stop(self):
        for thing in reversed(self.stoppable):
            thing.stop()
        if os.environ.get("BENCH_KEEP"):
            log(f"scratch directory kept: {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
