"""The DSN extension (RFC 3461) through the gateway: the server offers it
and keeps NOTIFY, ORCPT, RET and ENVID per recipient through the queue;
they are passed on to a next hop that offers DSN; success notices are sent
when asked for ("delivered" for final delivery, "relayed" to a next hop
without DSN); NOTIFY=NEVER suppresses the bounce; RET=FULL returns the
whole message; and a delay warning goes out once after
queue.delay_warning (Q-2)."""

import pytest

import mwsys
from peers import LmtpServer, parse_dsn

SENDER = "sender@other.test"


@pytest.fixture(scope="module")
def dsn_peer(ports):
    s = LmtpServer(port=ports.get(), smtp=True, caps=("PIPELINING", "DSN")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, peer, bounces, dsn_peer, workdir):
    return make_gateway(
        sink=peer,
        routes={"example.test": peer.url, "other.test": bounces.url, "box.test": "maildir:maildir/box.test",
                "dsn.test": f"smtp://127.0.0.1:{dsn_peer.port}"},
        local_domains=["example.test", "other.test", "box.test", "dsn.test"],
        queue={"retry_min": "1s", "retry_max": "1s", "delay_warning": "2s"})


def _tx(gw, mail_args, rcpts, token):
    """rcpts: list of (address, parameters)."""
    with mwsys.SmtpClient(gw.port, source="127.0.0.10") as c:
        assert c.greeting().code == 220
        ehlo = c.ehlo()
        assert "DSN" in ehlo.lines
        assert c.cmd(f"MAIL FROM:<{SENDER}>{mail_args}").code == 250
        for addr, params in rcpts:
            r = c.cmd(f"RCPT TO:<{addr}>{params}")
            assert r.code == 250, r
        reply = c.data(f"Subject: {token}\r\n\r\n{token} body line\r\n".encode())
        c.cmd("QUIT")
    assert reply.code == 250, reply
    return mwsys.queue_id(reply)


def _dsn_for(bounces, token, action):
    def match(m):
        return m.mail_from in ("", "<>") and token.encode() in m.data and f"Action: {action}".encode() in m.data
    return bounces.wait_for(match)[0]


def test_bad_dsn_parameters_are_refused(gw):
    with mwsys.SmtpClient(gw.port, source="127.0.0.10") as c:
        c.greeting()
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{SENDER}> RET=BODY").code == 501
        assert c.cmd(f"MAIL FROM:<{SENDER}> ENVID=a+zz").code == 501
        assert c.cmd(f"MAIL FROM:<{SENDER}> RET=HDRS").code == 250
        assert c.cmd("RCPT TO:<a@example.test> NOTIFY=NEVER,SUCCESS").code == 501
        assert c.cmd("RCPT TO:<a@example.test> ORCPT=nosemicolon").code == 501


# Issue 18 item 6: RFC 3461 4.2/4.4 allow only printable ASCII after xtext
# decoding; "+0D+0A" would put a header line of the client's into the DSN.
CONTROL_XTEXT = {"crlf": "+0D+0A", "lf": "+0A", "nul": "+00", "esc": "+1B", "del": "+7F", "8bit": "+FF"}


@pytest.mark.parametrize("code", CONTROL_XTEXT.values(), ids=CONTROL_XTEXT.keys())
def test_dsn_xtext_decoding_to_a_control_is_refused_with_501_5_5_4(gw, code):
    with mwsys.SmtpClient(gw.port, source="127.0.0.10") as c:
        c.greeting()
        c.ehlo()
        r = c.cmd(f"MAIL FROM:<{SENDER}> ENVID=env{code}X-Evil:+20yes")
        assert (r.code, r.enhanced) == (501, "5.5.4"), r
        assert c.cmd(f"MAIL FROM:<{SENDER}> ENVID=env+20ok").code == 250
        r = c.cmd(f"RCPT TO:<a@example.test> ORCPT=rfc822;a@example.test{code}Subject:+20x")
        assert (r.code, r.enhanced) == (501, "5.5.4"), r
        assert c.cmd("RCPT TO:<a@example.test> ORCPT=rfc822;a+2Bb@example.test").code == 250


def test_success_notice_for_final_delivery(gw, bounces):
    token = mwsys.unique("success")
    qid = _tx(gw, " ENVID=env+2B1", [("user@box.test", " NOTIFY=SUCCESS ORCPT=rfc822;User@box.test")], token)
    msg, rcpts, per_msg = parse_dsn(_dsn_for(bounces, token, "delivered"))
    assert msg["Subject"] == "Successful Mail Delivery Report"
    assert per_msg["Original-Envelope-Id"] == "env+2B1"
    assert rcpts == [{"Original-Recipient": "rfc822; User@box.test", "Final-Recipient": "rfc822; user@box.test",
                      "Action": "delivered", "Status": "2.0.0",
                      "Diagnostic-Code": "smtp; 250 2.0.0 delivered to maildir"}]
    gw.wait_event(proc="queue", event="removed", queue_id=qid)


def test_success_notice_says_relayed_for_a_next_hop_without_dsn(gw, peer, bounces):
    token = mwsys.unique("relayed")
    _tx(gw, "", [("user@example.test", " NOTIFY=SUCCESS,FAILURE")], token)
    peer.wait_token(token)
    _, rcpts, _ = parse_dsn(_dsn_for(bounces, token, "relayed"))
    assert rcpts[0]["Final-Recipient"] == "rfc822; user@example.test"


def test_dsn_parameters_are_passed_to_a_next_hop_that_offers_dsn(gw, dsn_peer, bounces):
    token = mwsys.unique("passon")
    qid = _tx(gw, " RET=HDRS ENVID=QQ314159", [("user@dsn.test", " NOTIFY=SUCCESS ORCPT=rfc822;Orig@dsn.test")],
              token)
    gw.wait_delivered(qid)
    mails = [c for c in dsn_peer.commands if c.startswith("MAIL FROM:<sender@other.test>")]
    assert mails and mails[-1].endswith(" RET=HDRS ENVID=QQ314159"), mails
    assert "RCPT TO:<user@dsn.test> NOTIFY=SUCCESS ORCPT=rfc822;Orig@dsn.test" in dsn_peer.commands
    gw.wait_event(proc="queue", event="removed", queue_id=qid)
    # the next hop reports success; we do not
    assert not [m for m in bounces.messages if token.encode() in m.data]


def test_notify_never_suppresses_the_bounce(gw, peer, bounces):
    token = mwsys.unique("never")
    peer.refuse["gone@example.test"] = "550 5.1.1 gone"
    try:
        qid = _tx(gw, "", [("gone@example.test", " NOTIFY=NEVER")], token)
        gw.wait_event(proc="queue", event="bounced", queue_id=qid)
        gw.wait_event(proc="queue", event="removed", queue_id=qid)
    finally:
        peer.refuse.clear()
    assert not gw.events(proc="queue", event="dsn_queued", about=qid)


def test_ret_full_returns_the_whole_message(gw, peer, bounces):
    token = mwsys.unique("full")
    peer.refuse["gone@example.test"] = "550 5.1.1 gone"
    try:
        _tx(gw, " RET=FULL", [("gone@example.test", "")], token)
        msg, _, _ = parse_dsn(_dsn_for(bounces, token, "failed"))
    finally:
        peer.refuse.clear()
    returned = [p for p in msg.get_payload() if p.get_content_type() == "message/rfc822"]
    assert len(returned) == 1
    inner = returned[0].get_payload()[0]
    assert inner["Subject"] == token
    assert f"{token} body line" in inner.get_payload()


def test_delay_warning_is_sent_once(gw, peer, bounces):
    token = mwsys.unique("delay")
    peer.refuse["slow@example.test"] = "451 4.2.1 try later"
    try:
        qid = _tx(gw, "", [("slow@example.test", "")], token)
        msg, rcpts, _ = parse_dsn(_dsn_for(bounces, token, "delayed"))
        assert msg["Subject"] == "Delayed Mail (still being retried)"
        assert rcpts[0]["Status"] == "4.2.1"
        start = gw.mark()
        gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid, start=start)
        gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid, start=gw.mark())
    finally:
        peer.refuse.clear()
    gw.wait_event(proc="queue", event="removed", queue_id=qid)
    assert len([m for m in bounces.messages if token.encode() in m.data]) == 1
