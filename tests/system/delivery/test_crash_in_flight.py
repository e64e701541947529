"""kill -9 of the queue process while a delivery is in flight (Q-1): the
message is retried after the restart, never lost; a recipient that was
already delivered (and marked) is not delivered again; at most the
message in flight is duplicated."""

import os
import signal
import threading

import mwsys
from peers import PeerSink, send


def test_kill_9_of_the_queue_during_delivery_loses_nothing(make_gateway_fn, ports):
    stalling = PeerSink(ports.get())
    stalling.stall = threading.Event()
    stalling.start()
    try:
        gw = make_gateway_fn(routes={"example.test": stalling.url, "other.test": "maildir:maildir/other.test"})
        token = mwsys.unique("inflight")
        qid = send(gw, "a@example.test", ["user@other.test", "user@example.test"],
                   f"Subject: {token}\r\n\r\n{token}\r\n")
        # The maildir recipient is delivered and marked; the SMTP one hangs in DATA.
        gw.wait_delivered(qid, to="user@other.test")
        assert stalling.stalled.wait(10), "the sink never saw DATA"
        start = gw.mark()
        old = gw.kill(signal.SIGKILL, "queue")
        gw.wait_event(proc="master", event="spawned", child="queue", start=start)
        gw.wait_event(proc="queue", event="recovered", queue_id=qid, start=start)
        stalling.stall.set()       # the first connection ends; the retry gets through
        gw.wait_delivered(qid, to="user@example.test", start=start, timeout=20)
        gw.wait_event(proc="queue", event="removed", queue_id=qid, start=start)
        assert old not in gw.children("queue")[-1:]
        copies = len(stalling.with_token(token))
        assert 1 <= copies <= 2, copies   # at most the message in flight twice
        maildir = gw.path("maildir", "other.test", "new")
        in_maildir = [f for f in os.listdir(maildir) if token.encode() in open(os.path.join(maildir, f), "rb").read()]
        assert len(in_maildir) == 1, "the maildir recipient was delivered again"
        assert not gw.events(proc="queue", event="delivery", queue_id=qid, to="user@other.test", start=start)
    finally:
        stalling.stall.set()
        stalling.stop()
