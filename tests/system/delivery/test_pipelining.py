"""The outbound client pipelines (RFC 2920) with a peer that offers
PIPELINING: MAIL, every RCPT and DATA in one write, replies matched in
order, including when MAIL or every RCPT is refused."""

import pytest

import mwsys
from peers import LmtpServer, send


@pytest.fixture(scope="module")
def peer(ports):
    s = LmtpServer(port=ports.get(), smtp=True, caps=("PIPELINING",)).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, peer):
    return make_gateway(routes={"example.test": f"smtp://127.0.0.1:{peer.port}", "other.test": "maildir:maildir/o"},
                        queue={"retry_min": "1h", "retry_max": "1h"})


def test_envelope_goes_in_one_write_and_replies_match(gw, peer):
    token = mwsys.unique("pipe")
    start = gw.mark()
    peer.rcpt_replies["bad@example.test"] = "550 5.1.1 unknown"
    qid = send(gw, "a@other.test", ["one@example.test", "two@example.test", "bad@example.test"],
               f"Subject: {token}\r\n\r\n{token}\r\n")
    gw.wait_event(proc="queue", event="delivery", queue_id=qid, to="bad@example.test", status="failed", start=start)
    gw.wait_delivered(qid, to="one@example.test", start=start)
    gw.wait_delivered(qid, to="two@example.test", start=start)
    assert gw.events(proc="queue", event="client_state", state="data", pipelined="yes", start=start)
    peer.rcpt_replies.clear()
    i = max(k for k, c in enumerate(peer.commands) if c.startswith("MAIL FROM:<a@other.test>"))
    assert peer.commands[i + 1:i + 5] == ["RCPT TO:<one@example.test>", "RCPT TO:<two@example.test>",
                                          "RCPT TO:<bad@example.test>", "DATA"], peer.commands


def test_refused_mail_skips_the_pipelined_replies(gw, peer):
    peer.mail_reply = "451 4.3.0 not now"
    start = gw.mark()
    try:
        qid = send(gw, "a@other.test", ["x@example.test", "y@example.test"], "Subject: m\r\n\r\nm\r\n")
        for to in ("x@example.test", "y@example.test"):
            e = gw.wait_event(proc="queue", event="delivery", queue_id=qid, to=to, status="deferred", start=start)
            assert e["reply"] == "451 4.3.0 not now"
        gw.wait_event(proc="queue", event="client_state", state="done", start=start)
    finally:
        peer.mail_reply = None


def test_every_rcpt_refused_ends_without_a_body(gw, peer):
    peer.rcpt_replies["gone@example.test"] = "550 5.1.1 gone"
    start = gw.mark()
    try:
        qid = send(gw, "a@other.test", ["gone@example.test"], "Subject: g\r\n\r\ng\r\n")
        e = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="failed", start=start)
        assert e["reply"] == "550 5.1.1 gone"
        gw.wait_event(proc="queue", event="client_state", state="done", start=start)
    finally:
        peer.rcpt_replies.clear()
