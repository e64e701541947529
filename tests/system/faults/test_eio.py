"""The disk reports an error while a message is committed (issue 14,
catalogue case 147, Q-1, SEC-4).

An LD_PRELOAD shim (eio_shim.c) makes one call on spool files fail with
EIO: the fsync of the message file, the pwrite of its trailer, or the
fsync of spool/queue after the rename. Each time:

- the client gets a 4xx after its final dot, never 250 (the gateway does
  not retry the fsync and trust it: after a failed fsync the dirty pages
  may be gone, PostgreSQL's "fsyncgate");
- the queue logs a spool_error line naming the step and the errno text;
- a message refused at the file step never reaches the next hop and
  leaves no file in spool/tmp or spool/queue;
- the next messages get their 250 and are delivered, with no restart.
"""

import os

import pytest

import mwsys
import shim
from shim import gw, sink  # noqa: F401 (fixtures)


@pytest.fixture
def shim_so(tmp_path):
    return shim.build(str(tmp_path))


def _send(gw, token):
    """One message with token in its Subject; the reply to its final dot."""
    return mwsys.send_message(gw, f"Subject: {token}\r\n\r\nbody of {token}\r\n".encode())


def _queue_files(gw, sub):
    path = gw.path("spool", sub)
    files = set(os.listdir(path)) if os.path.isdir(path) else set()
    if sub == "tmp":   # staged empty files (spool_pool.h) are not messages
        files = {f for f in files if os.path.getsize(os.path.join(path, f)) > 0}
    return files


def _next_messages_pass(gw, sink, count=3):
    tokens = [mwsys.unique("after") for _ in range(count)]
    for token in tokens:
        r = _send(gw, token)
        assert r.code == 250, f"a message after the fault got {r}"
    for token in tokens:
        sink.wait_token(token)


@pytest.mark.parametrize("call,where,step", [
    ("fsync", "tmp/", "commit"),      # fsync(file) before the rename
    ("pwrite", "tmp/", "commit"),     # the trailer written after the body
])
def test_file_step_fails_no_250_and_message_is_dropped(gw, sink, shim_so, monkeypatch, call, where, step):
    """Q-1: case 147. The file is never renamed into queue/: not delivered."""
    shim.start_with_fault(gw, monkeypatch, shim_so, call, gw.path("spool", where))
    token = mwsys.unique(f"eio-{call}")
    mark = gw.mark()
    r = _send(gw, token)
    assert 400 <= r.code < 500, f"{call} failed with EIO yet the reply was {r}"
    line = gw.wait_event(proc="queue", event="spool_error", op=step, start=mark)
    assert line.get("msg") == "Input/output error", line["_line"]
    _next_messages_pass(gw, sink)
    assert not sink.with_token(token), "the message whose commit failed was delivered"
    # Delivered messages leave queue/ a moment after the sink's 250.
    mwsys.wait_until(lambda: not _queue_files(gw, "queue") and not _queue_files(gw, "tmp"),
                     what="spool/queue and spool/tmp to hold no message")


def test_directory_fsync_fails_no_250(gw, sink, shim_so, monkeypatch):
    """Q-1: the rename is done but fsync(spool/queue) fails: the rename may
    not be durable, so no 250, and the file is removed again so that the
    client's retry is the only copy delivered (a 4xx means "not taken")."""
    shim.start_with_fault(gw, monkeypatch, shim_so, "fsync", gw.path("spool", "queue"))
    token = mwsys.unique("eio-dir")
    mark = gw.mark()
    r = _send(gw, token)
    assert 400 <= r.code < 500, f"fsync(spool/queue) failed with EIO yet the reply was {r}"
    line = gw.wait_event(proc="queue", event="spool_error", op="fsync_dir", start=mark)
    assert line.get("msg") == "Input/output error", line["_line"]
    assert line.get("action", "").startswith("removed"), line["_line"]
    assert line["queue_id"] not in _queue_files(gw, "queue")
    _next_messages_pass(gw, sink)
    assert not sink.with_token(token), "the copy the client was told 4xx for was delivered too"
