"""The queue's control socket flooded (issue 14 "Fault injection", SEC-4).

spool/control.sock only lets root and the queue user in, but a runaway
script of theirs (a monitoring loop that never closes, a web front end
gone wrong) can still open connection after connection. The queue keeps
at most CONTROL_CLIENTS_MAX of them (src/queue/control.c) and drops the
oldest for a new one, so:

- the queue process stays up (same pid) and mail still flows, even when
  its file descriptor limit is low enough that the flood alone would
  exhaust it (the gateway is started with a soft RLIMIT_NOFILE of 512,
  and the flood is sized to go past it);
- a real `mailwarden queue list` during the flood gets its answer;
- the queue says so once per flood (event=control_busy).
"""

import socket
import subprocess
import threading
import time

import pytest

import mwsys
from procs import open_fds, start_with_nofile

NOFILE = 512


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn):
    sink = make_sink_fn()
    gw = make_gateway_fn(sink=sink, log={"target": "stderr", "format": "kv", "level": "info"}, start=False)
    gw.sink = sink
    return start_with_nofile(gw, NOFILE)


def _settled_fds(pid):
    """The queue's descriptor count once it has stopped changing for a
    second (after its start it fills the spool's pool of staged files)."""
    last = [None, time.monotonic()]

    def settled():
        n = open_fds(pid)
        if n != last[0]:
            last[:] = [n, time.monotonic()]
        return n if time.monotonic() - last[1] >= 1.0 else None
    return mwsys.wait_until(settled, timeout=20, what="the queue's descriptors to settle")


def _connect(path, patience=2.0):
    """A connection to the unix socket path, or None if its backlog stays
    full for patience seconds (a unix connect does not wait: EAGAIN)."""
    deadline = time.monotonic() + patience
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)


class Flood:
    """A thread that keeps opening connections to the control socket as
    fast as the queue takes them, every third one sending junk or a
    command but never a line end (so none is ever answered), closing
    none, until stop() (or `most` connections)."""

    def __init__(self, path, most=4000):
        self.path = path
        self.most = most
        self.socks = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        for s in self.socks:
            s.close()

    @property
    def made(self):
        return len(self.socks)

    def _run(self):
        while not self._stop.is_set() and len(self.socks) < self.most:
            s = _connect(self.path, patience=0.05)
            if s is None:
                continue
            if len(self.socks) % 3 == 0:
                try:
                    s.send(b"list" if len(self.socks) % 2 else b"\x00\x01junk")
                except OSError:
                    pass   # already dropped by the queue
            self.socks.append(s)


def _queue_list(gw):
    return subprocess.run([gw.binary, "queue", "-c", gw.config_path, "list"], capture_output=True, text=True,
                          timeout=20)


def test_control_socket_flood_leaves_the_queue_up_and_mail_flowing(gw):
    """SEC-4: more connections that never close than the queue has
    descriptors left: mail is still accepted and delivered, `queue list`
    answers, the queue is the same process."""
    queue = gw.pid("queue")
    baseline = _settled_fds(queue)
    mark = gw.mark()
    flood = Flood(gw.path("spool", "control.sock")).start()
    try:
        # More connections than the queue has descriptors left.
        mwsys.wait_until(lambda: flood.made > NOFILE - baseline + 100, timeout=30,
                         what=f"the flood to pass {NOFILE - baseline + 100} connections (made {flood.made})")
        held = open_fds(queue)
        print(f"\ncontrol flood: {flood.made} connections so far; the queue holds {held} descriptors "
              f"({baseline} before, limit {NOFILE})")
        assert held < NOFILE - 8, f"the flood took the queue's descriptors: {held} of {NOFILE}"

        token = mwsys.unique("flood")
        qid = mwsys.send_token(gw, token)
        gw.sink.wait_token(token, timeout=15)
        gw.wait_delivered(qid)

        r = _queue_list(gw)
        assert r.returncode == 0, f"queue list during the flood: {r.returncode} {r.stderr}"
        assert qid not in r.stdout
        print(f"control flood: {flood.made} connections by the end")
        busy = gw.events(start=mark, proc="queue", event="control_busy")
        assert len(busy) == 1, f"control_busy logged {len(busy)} times in one flood"
    finally:
        flood.stop()
    assert gw.pid("queue") == queue and mwsys.pid_alive(queue)
    assert _queue_list(gw).returncode == 0
