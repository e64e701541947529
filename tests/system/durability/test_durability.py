"""A message the gateway answered with 250 is never lost (SEC-4, Q-): not
when the queue process or the master is killed, not while the next hop is
down; and a message that was not answered with 250 is never delivered.

Each test starts its own daemon and sink, because it kills or restarts
them."""

import os
import signal

import pytest

import mwsys


@pytest.fixture
def sink(make_sink_fn):
    """A sink that is not running yet: the next hop is down."""
    return make_sink_fn(start=False)


@pytest.fixture
def gw(make_gateway_fn, sink):
    return make_gateway_fn(sink=sink)


def _send(gw, token, rcpt="user@example.test"):
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        reply = c.transaction("a@b.test", [rcpt], f"Subject: {token}\r\n\r\ndurable\r\n".encode())
        c.cmd("QUIT")
    assert reply.code == 250, reply
    return mwsys.queue_id(reply)


def _spooled(gw, qid):
    return os.path.exists(gw.path("spool", "queue", qid))


def _spool_entries(gw, sub):
    path = gw.path("spool", sub)
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def _received_in_tmp(gw):
    """Messages in spool/tmp. The empty files there are the ones the queue
    staged for the next messages (src/queue/spool_pool.h), not messages:
    every message starts with its envelope."""
    path = gw.path("spool", "tmp")
    return sorted(n for n in _spool_entries(gw, "tmp") if os.path.getsize(os.path.join(path, n)) > 0)


def test_message_survives_kill_of_queue_process(gw, sink):
    token = mwsys.unique("killqueue")
    start = gw.mark()
    qid = _send(gw, token)
    assert _spooled(gw, qid), "250 given but the message is not in spool/queue"
    old_queue = gw.pid("queue")
    mark = gw.mark()
    gw.kill(signal.SIGKILL, "queue")
    spawned = gw.wait_event(proc="master", event="spawned", child="queue", start=mark)
    assert int(spawned["pid"]) != old_queue
    gw.wait_event(proc="master", event="child_exited", child="queue", pid=old_queue, start=start)
    gw.wait_event(proc="queue", event="recovered", queue_id=qid, start=mark)
    assert _spooled(gw, qid)
    sink.start()
    gw.wait_delivered(qid, to="user@example.test", start=mark)
    msg = sink.wait_token(token)
    assert msg.rcpt_tos == ["user@example.test"]
    gw.wait_event(proc="queue", event="removed", queue_id=qid, start=mark)
    assert not _spooled(gw, qid)


def test_message_survives_kill_of_master(gw, sink):
    token = mwsys.unique("killmaster")
    qid = _send(gw, token)
    children = [gw.pid("queue"), gw.pid("smtpd")]
    gw.kill(signal.SIGKILL, "master")
    assert gw.wait_exit() == -signal.SIGKILL
    # The children notice that their parent is gone and exit.
    mwsys.wait_until(lambda: not any(mwsys.pid_alive(p) for p in children),
                     what=f"children {children} to exit after the master was killed")
    assert _spooled(gw, qid)
    mark = gw.mark()
    gw.start()
    gw.wait_event(proc="queue", event="recovered", queue_id=qid, start=mark)
    sink.start()
    gw.wait_delivered(qid, start=mark)
    sink.wait_token(token)
    gw.wait_event(proc="queue", event="removed", queue_id=qid, start=mark)
    assert not _spooled(gw, qid)


def test_deferred_message_is_retried_and_removed_once_sent(gw, sink):
    token = mwsys.unique("retry")
    start = gw.mark()
    qid = _send(gw, token)
    deferred = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", start=start)
    assert deferred["nexthop"] == sink.url
    assert _spooled(gw, qid), "deferred message is not in spool/queue"
    assert gw.events(start=start, event="removed", queue_id=qid) == []
    sink.start()
    mark = gw.mark()
    sent = gw.wait_delivered(qid, to="user@example.test", start=mark)
    assert sent["nexthop"] == sink.url
    assert sent["reply"].startswith("250")
    msg = sink.wait_token(token)
    assert msg.rcpt_tos == ["user@example.test"]
    gw.wait_event(proc="queue", event="removed", queue_id=qid, start=mark)
    assert not _spooled(gw, qid)
    # Delivered once, not again on a later retry.
    assert len(sink.with_token(token)) == 1


@pytest.mark.parametrize("reply", ["451 4.3.0 try again later", "421 4.3.2 shutting down"],
                         ids=["temporary_451", "temporary_421"])
def test_temporary_refusal_at_next_hop_is_retried(gw, sink, reply):
    token = mwsys.unique("tempfail")
    sink.replies["DATA"] = reply
    sink.start()
    start = gw.mark()
    qid = _send(gw, token)
    deferred = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", start=start)
    assert deferred["reply"].startswith(reply[:3]), deferred
    assert _spooled(gw, qid)
    mark = gw.mark()
    sink.replies.clear()
    gw.wait_delivered(qid, start=mark)
    sink.wait_token(token)
    gw.wait_event(proc="queue", event="removed", queue_id=qid, start=mark)
    assert not _spooled(gw, qid)


def test_permanent_refusal_at_next_hop_fails_the_recipient(gw, sink):
    token = mwsys.unique("permfail")
    sink.replies["RCPT"] = "550 5.1.1 no such user"
    sink.start()
    start = gw.mark()
    qid = _send(gw, token)
    failed = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="failed", start=start)
    assert failed["reply"].startswith("550"), failed
    gw.wait_event(proc="queue", event="removed", queue_id=qid, start=start)
    assert sink.with_token(token) == []


def test_half_received_message_is_never_delivered(gw, sink):
    sink.start()
    token = mwsys.unique("half")
    start = gw.mark()
    c = mwsys.SmtpClient(gw.port)
    try:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(f"Subject: {token}\r\n\r\n" + "first half of the body\r\n" * 200)
        gw.session_of(c.source, start=start)
        gw.kill(signal.SIGKILL, "smtpd")
        replies = []
        c.sock.settimeout(5)
        try:
            while True:
                replies.append(c.reply())
        except (mwsys.Closed, OSError):
            pass
        assert not any(r.code == 250 for r in replies), f"got {replies} for a half message"
    finally:
        c.close()
    # Restart the whole daemon: stale spool/tmp files are cleared at start-up.
    gw.restart()
    assert _received_in_tmp(gw) == [], "a message left in spool/tmp after restart"
    assert gw.events(start=start, event="queued") == []
    assert gw.events(start=start, event="committed") == []
    # A message sent afterwards arrives; the half one never does.
    control = mwsys.unique("after")
    qid = _send(gw, control)
    gw.wait_delivered(qid, start=start)
    sink.wait_token(control)
    assert sink.with_token(token) == []


def test_spool_is_empty_after_clean_delivery_and_restart(gw, sink):
    sink.start()
    token = mwsys.unique("clean")
    start = gw.mark()
    qid = _send(gw, token)
    gw.wait_event(proc="queue", event="removed", queue_id=qid, start=start)
    sink.wait_token(token)
    mark = gw.mark()
    gw.restart()
    assert gw.events(start=mark, event="recovered") == []
    assert _spool_entries(gw, "queue") == []
    assert _received_in_tmp(gw) == []
    assert len(sink.with_token(token)) == 1
