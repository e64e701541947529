"""Every 250 after the data follows fsync(file), rename, fsync(dir) (Q-1;
issue 14, catalogue case 146a).

kill -9 keeps the page cache, so only the order of the system calls shows
that an acknowledged message would survive a power loss. strace follows
the queue process (all its threads) and the smtpd while messages are
accepted, one by one and several at once (the queue's group commit shares
one fsync of spool/queue among concurrent commits: spool.h, dirsync.h).
For each queue id the trace must show, in time order:

1. fsync or fdatasync of spool/tmp/<id> returned 0,
2. then the renameat2 of <id> from spool/tmp into spool/queue began and
   returned 0,
3. then an fsync of spool/queue that began after that rename returned and
   returned 0 (its own, or one run by another commit),
4. then the smtpd wrote "250 ... queued as <id>" to the client.

Negative control (146b): the same run with fsync skipped by the shim
(tests/system/faults/eio_shim.c, MW_FAULT_NOOP: a disk that lies, like
eatmydata) must fail the check for every message — the oracle has teeth.

Skipped when strace is missing (scripts/deps.sh installs it).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import pytest

import mwsys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import shim  # noqa: E402
from shim import gw, sink  # noqa: E402,F401 (fixtures)

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (scripts/deps.sh)")

SEQUENTIAL = 5
CONCURRENT = 8

# "PID SECONDS.MICROS rest"; with -T the duration "<0.000123>" ends a
# finished call.
_LINE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(.*)$")
_UNFINISHED = re.compile(r"^(\w+)\((.*) <unfinished \.\.\.>$")
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
_FINISHED = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)(.*?)\s*<(\d+\.\d+)>$")
_RESULT = re.compile(r"\)?\s*=\s+(-?\d+)(.*?)\s*<(\d+\.\d+)>$")


class Call:
    def __init__(self, pid, name, args, start):
        self.pid = pid
        self.name = name
        self.args = args
        self.start = start
        self.end = None
        self.result = None

    def __repr__(self):
        return f"<{self.pid} {self.start:.6f}-{self.end} {self.name}({self.args[:80]}) = {self.result}>"


def parse_trace(text):
    """The finished calls of an strace -f -ttt -T -y output, with entry and
    return times (unfinished/resumed pairs joined per pid)."""
    calls, pending = [], {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        pid, when, rest = int(m.group(1)), float(m.group(2)), m.group(3)
        u = _UNFINISHED.match(rest)
        if u:
            pending[pid] = Call(pid, u.group(1), u.group(2), when)
            continue
        r = _RESUMED.match(rest)
        if r:
            call = pending.pop(pid, None)
            res = _RESULT.search(r.group(2))
            if call is None or res is None:
                continue
            call.args += r.group(2)[:res.start()]
        else:
            f = _FINISHED.match(rest)
            if not f or f.group(3) == "?":
                continue
            call = Call(pid, f.group(1), f.group(2), when)
            res = _RESULT.search(rest)
        call.result = int(res.group(1))
        call.end = call.start + float(res.group(3))
        calls.append(call)
    return calls


def check_order(calls, queue_id, spool):
    """Problems with the commit of queue_id (empty: fsync(file), rename,
    fsync(dir), 250, in that order)."""
    tmp_file, queue_dir = f"{spool}/tmp/{queue_id}>", f"{spool}/queue>"
    # The reply on the client's socket (-y shows "socket:["), not the
    # debug log line that quotes it.
    acks = [c for c in calls if c.name in ("write", "writev", "sendmsg", "sendto")
            and "<socket:[" in c.args and f"queued as {queue_id}" in c.args]
    if not acks:
        return [f"{queue_id}: no 250 in the trace"]
    ack = min(acks, key=lambda c: c.start)
    file_syncs = [c for c in calls if c.name in ("fsync", "fdatasync") and c.result == 0
                  and tmp_file in c.args]
    renames = [c for c in calls if c.name.startswith("rename") and c.result == 0
               and f'"{queue_id}"' in c.args and f"{spool}/queue>" in c.args]
    if not file_syncs:
        return [f"{queue_id}: no successful fsync of spool/tmp/{queue_id}"]
    if not renames:
        return [f"{queue_id}: no rename into spool/queue"]
    rename = renames[0]
    problems = []
    if not any(c.end <= rename.start for c in file_syncs):
        problems.append(f"{queue_id}: the rename {rename} began before fsync(file) returned {file_syncs}")
    dir_syncs = [c for c in calls if c.name == "fsync" and c.result == 0 and queue_dir in c.args
                 and c.start >= rename.end and c.end <= ack.start]
    if not dir_syncs:
        problems.append(f"{queue_id}: no fsync(spool/queue) between the rename {rename} and the 250 {ack}")
    if rename.end > ack.start:
        problems.append(f"{queue_id}: the 250 {ack} came before the rename returned")
    return problems


class Tracer:
    """strace attached to some pids of the gateway, writing to a file."""

    def __init__(self, pids, out):
        self.out = out
        argv = ["strace", "-f", "-ttt", "-T", "-y", "-s", "256", "-o", out,
                "-e", "trace=fsync,fdatasync,rename,renameat,renameat2,openat,write,writev,sendmsg,sendto"]
        for pid in pids:
            argv += ["-p", str(pid)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # strace reports each attach on stderr before it traces anything.
        self.attached = 0
        for _ in range(len(pids)):
            line = self.proc.stderr.readline().decode()
            if "attached" not in line:
                raise RuntimeError(f"strace did not attach: {line!r}")
            self.attached += 1

    def stop(self):
        self.proc.send_signal(signal.SIGINT)   # detaches and flushes
        self.proc.wait(timeout=mwsys.TIMEOUT)
        with open(self.out) as f:
            return f.read()


def _accept_messages(gw):
    """SEQUENTIAL messages one by one, then CONCURRENT at once; the queue ids."""
    ids, lock = [], threading.Lock()

    def one():
        r = mwsys.send_message(gw, b"Subject: order\r\n\r\nx\r\n")
        assert r.code == 250, r
        with lock:
            ids.append(mwsys.queue_id(r))

    for _ in range(SEQUENTIAL):
        one()
    threads = [threading.Thread(target=one) for _ in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(mwsys.REPLY_TIMEOUT * 2)
    return ids


def _traced_run(gw, tmp_path):
    pids = [gw.pid("queue"), gw.pid("smtpd")]
    tracer = Tracer(pids, str(tmp_path / "trace"))
    try:
        ids = _accept_messages(gw)
    finally:
        text = tracer.stop()
    calls = parse_trace(text)
    spool = os.path.realpath(gw.path("spool"))
    return ids, {qid: check_order(calls, qid, spool) for qid in ids}


def test_every_250_follows_fsync_rename_fsync_dir(gw, tmp_path):
    """Q-1: case 146a."""
    gw.start()
    ids, problems = _traced_run(gw, tmp_path)
    assert len(ids) == SEQUENTIAL + CONCURRENT
    bad = [p for found in problems.values() for p in found]
    assert not bad, "\n".join(bad[:10])


def test_oracle_fails_when_fsync_is_skipped(gw, tmp_path, monkeypatch):
    """Q-1: case 146b, the negative control: fsync skipped (a lying disk)
    makes the check fail for every message."""
    shim.start_with_fault(gw, monkeypatch, shim.build(str(tmp_path)), "fsync", gw.path("spool"),
                          nth=0, noop=True)
    ids, problems = _traced_run(gw, tmp_path)
    assert len(ids) == SEQUENTIAL + CONCURRENT
    passed = [qid for qid, found in problems.items() if not found]
    assert not passed, f"the oracle passed messages whose fsyncs were skipped: {passed}"
