"""A queue that does not answer (here: stopped with SIGSTOP) never leaves
a session hanging until the client's own timeout: every wait of the
session has a deadline (issue 10). The session answers 451 when it passes
and goes on; no 250 is ever given without the queue's word (Q-1)."""

import os
import signal
import time
from contextlib import contextmanager

import pytest

import mwsys

COMMAND_TIMEOUT = 3
DATA_TIMEOUT = 2


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink, limits={"command_timeout": f"{COMMAND_TIMEOUT}s",
                                           "data_timeout": f"{DATA_TIMEOUT}s"})


@contextmanager
def queue_stopped(gw):
    """The queue process takes no message and answers nothing meanwhile."""
    pid = gw.pid("queue")
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


def timed_reply(c):
    began = time.monotonic()
    reply = c.reply()
    return reply, time.monotonic() - began


def assert_session_goes_on(gw, c, token):
    """Once the queue answers again the same session gets mail through."""
    assert c.cmd("RSET").code == 250
    again = c.transaction("a@b.test", ["user@example.test"], f"Subject: {token}\r\n\r\nagain\r\n".encode())
    assert again.code == 250, again


def test_a_queue_that_never_answers_the_end_of_message_gets_451_after_the_data_timeout(gw, sink):
    start = gw.mark()
    token = mwsys.unique("noverdict")
    with mwsys.SmtpClient(gw.port) as c:
        c.up_to_data()
        session = gw.session_of(c.source, start=start)
        with queue_stopped(gw):
            c.send(f"Subject: {token}\r\n\r\nbody\r\n.\r\n".encode())
            reply, waited = timed_reply(c)
            assert reply.code == 451 and reply.enhanced == "4.4.2", reply
            assert DATA_TIMEOUT - 0.5 <= waited < COMMAND_TIMEOUT, f"answered after {waited:.2f}s"
            gw.wait_event(proc="smtpd", event="wait", session=session, kind="verdict", start=start)
            gw.wait_event(proc="smtpd", event="queue_failed", session=session,
                          reason="no answer from the queue in time", start=start)
        assert_session_goes_on(gw, c, f"{token}-again")
    sink.wait_token(f"{token}-again")


def test_a_queue_that_never_opens_the_message_gets_451_after_the_command_timeout(gw, sink):
    start = gw.mark()
    token = mwsys.unique("noopen")
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        with queue_stopped(gw):
            c.send("DATA\r\n")
            reply, waited = timed_reply(c)
            assert reply.code == 451 and reply.enhanced == "4.4.2", reply
            assert waited >= COMMAND_TIMEOUT - 0.5, f"answered after {waited:.2f}s"
        assert_session_goes_on(gw, c, token)
    sink.wait_token(token)


def test_a_queue_that_stops_taking_the_message_fails_it_with_451_at_its_end(gw, sink):
    start = gw.mark()
    token = mwsys.unique("nobacklog")
    # Far more than the pipe and smtpd's backlog hold (64 KiB + 256 KiB),
    # within the 1M message_size of the test configuration.
    body = f"Subject: {token}\r\n\r\n".encode() + (b"x" * 998 + b"\r\n") * 800
    with mwsys.SmtpClient(gw.port) as c:
        c.up_to_data()
        session = gw.session_of(c.source, start=start)
        with queue_stopped(gw):
            c.send(body + b".\r\n")
            reply, waited = timed_reply(c)
            assert reply.code == 451 and reply.enhanced == "4.3.0", reply
            gw.wait_event(proc="smtpd", event="wait", session=session, kind="backlog", start=start)
            gw.wait_event(proc="smtpd", event="queue_failed", session=session,
                          reason="the queue took nothing of the message in time", start=start)
        assert_session_goes_on(gw, c, f"{token}-again")
    sink.wait_token(f"{token}-again")
    assert [m for m in sink.with_token(token) if f"{token}-again".encode() not in m.data] == []
