"""What the queue does with each kind of next hop answer (Q-2): 4xx is
retried on the back-off schedule, 5xx bounces with a well-formed RFC 3464
DSN to the envelope sender, a partial success delivers the rest and
bounces only the refused recipient, LMTP's per-recipient DATA replies are
honoured (over TCP and a unix socket), a peer's SIZE limit is respected,
the smart host takes what has no route (TOP-2), and a bounce that cannot
be delivered is never bounced again."""

import os

import pytest

import mwsys
from peers import LmtpServer, PeerSink, parse_dsn, send

SENDER = "sender@other.test"   # other.test: a maildir route; bounces land there


def _body(token, extra=""):
    return f"From: {SENDER}\r\nSubject: {token}\r\n\r\n{token}{extra}\r\n"


@pytest.fixture(scope="module")
def lmtp(ports):
    s = LmtpServer(port=ports.get()).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def lmtp_unix(workdir):
    s = LmtpServer(path=os.path.join(workdir, "lmtp.sock")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, peer, bounces, lmtp, lmtp_unix):
    return make_gateway(
        sink=peer,
        routes={"example.test": peer.url, "other.test": bounces.url,
                "lmtp.test": f"lmtp://127.0.0.1:{lmtp.port}", "unix.test": f"lmtp:unix:{lmtp_unix.path}"},
        local_domains=["example.test", "other.test", "lmtp.test", "unix.test"],
        queue={"retry_min": "1s", "retry_max": "2s", "lifetime": "1h"})


def _bounce_for(bounces, token):
    return bounces.wait_for(lambda m: m.mail_from in ("", "<>") and token.encode() in m.data)[0]


def test_temporary_failure_is_retried_on_the_backoff_schedule(gw, peer):
    token = mwsys.unique("4xx")
    start = gw.mark()
    peer.replies["DATA"] = "451 4.3.0 try again later"
    try:
        qid = send(gw, SENDER, ["user@example.test"], _body(token))
        waits = []
        for attempt in (1, 2, 3):
            gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred",
                          attempt=attempt, start=start)
            waits.append(int(gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid,
                                           attempt=attempt, start=start)["in"]))
        assert waits == [1, 2, 2], waits   # retry_min doubled, capped at retry_max
    finally:
        peer.replies.pop("DATA")
    peer.wait_token(token)
    assert gw.wait_delivered(qid, start=start)["attempt"] == "4"


def test_permanent_failure_bounces_a_wellformed_dsn_to_the_sender(gw, peer, bounces):
    token = mwsys.unique("5xx")
    peer.replies["DATA"] = "554 5.7.1 content refused"
    try:
        qid = send(gw, SENDER, ["user@example.test"], _body(token))
        dsn = _bounce_for(bounces, token)
    finally:
        peer.replies.pop("DATA")
    assert dsn.rcpt_tos == [SENDER]
    msg, rcpts, per_msg = parse_dsn(dsn)
    assert msg["To"] == f"<{SENDER}>"
    assert msg["From"].startswith("Mail Delivery System <MAILER-DAEMON@mx.gw.test>")
    assert msg["Auto-Submitted"] == "auto-replied"
    assert per_msg["Reporting-MTA"] == "dns; mx.gw.test"
    assert per_msg["X-Mailwarden-Queue-ID"] == qid
    assert rcpts == [{"Final-Recipient": "rfc822; user@example.test", "Action": "failed",
                      "Status": "5.7.1", "Remote-MTA": "dns; 127.0.0.1",
                      "Diagnostic-Code": "smtp; 554 5.7.1 content refused"}]
    headers = [p for p in msg.get_payload() if p.get_content_type() == "text/rfc822-headers"][0]
    assert f"Subject: {token}" in headers.get_payload()
    assert token not in msg.get_payload()[0].get_payload().split("queue id")[0]  # body not returned
    gw.wait_event(proc="queue", event="removed", queue_id=qid)


def test_one_of_three_recipients_refused_delivers_two_and_bounces_one(gw, peer, bounces):
    token = mwsys.unique("partial")
    peer.refuse["bad@example.test"] = "550 5.1.1 no such user"
    try:
        qid = send(gw, SENDER, ["a@example.test", "bad@example.test", "c@example.test"], _body(token))
        got = peer.wait_token(token)
        dsn = _bounce_for(bounces, token)
    finally:
        peer.refuse.clear()
    assert sorted(got.rcpt_tos) == ["a@example.test", "c@example.test"]
    _, rcpts, _ = parse_dsn(dsn)
    assert [r["Final-Recipient"] for r in rcpts] == ["rfc822; bad@example.test"]
    assert rcpts[0]["Status"] == "5.1.1"
    gw.wait_event(proc="queue", event="removed", queue_id=qid)
    assert len(peer.with_token(token)) == 1   # the two were not delivered again


def test_lmtp_per_recipient_data_replies(gw, lmtp, bounces):
    token = mwsys.unique("lmtp")
    lmtp.per_rcpt["full@lmtp.test"] = "552 5.2.2 mailbox full"
    lmtp.per_rcpt["busy@lmtp.test"] = "452 4.2.2 mailbox busy"
    start = gw.mark()
    qid = send(gw, SENDER, ["ok@lmtp.test", "full@lmtp.test", "busy@lmtp.test"], _body(token))
    gw.wait_delivered(qid, to="ok@lmtp.test", start=start)
    gw.wait_event(proc="queue", event="delivery", queue_id=qid, to="busy@lmtp.test", status="deferred", start=start)
    _, rcpts, _ = parse_dsn(_bounce_for(bounces, token))
    assert [(r["Final-Recipient"], r["Status"]) for r in rcpts] == [("rfc822; full@lmtp.test", "5.2.2")]
    lmtp.per_rcpt.clear()
    gw.wait_delivered(qid, to="busy@lmtp.test", start=start)
    delivered = [r for (_, r, data) in lmtp.messages if token.encode() in data]
    assert sorted(delivered) == ["busy@lmtp.test", "ok@lmtp.test"]


def test_lmtp_over_a_unix_socket(gw, lmtp_unix):
    token = mwsys.unique("unix")
    qid = send(gw, SENDER, ["user@unix.test"], _body(token))
    assert gw.wait_delivered(qid)["nexthop"] == f"lmtp:unix:{lmtp_unix.path}"
    assert any(token.encode() in data for (_, _, data) in lmtp_unix.wait_for(1))


def test_message_larger_than_the_peers_size_limit_is_not_sent(make_gateway, ports, bounces):
    small = PeerSink(ports.get(), size_limit=2000).start()
    try:
        gw2 = make_gateway(sink=small, routes={"example.test": small.url, "other.test": bounces.url})
        token = mwsys.unique("size")
        send(gw2, SENDER, ["user@example.test"], _body(token, "x" * 5000))
        _, rcpts, _ = parse_dsn(_bounce_for(bounces, token))
        assert rcpts[0]["Status"] == "5.3.4"
        assert small.data_attempts == 0
    finally:
        small.stop()


def test_smart_host_takes_everything_without_a_route(make_gateway, ports, bounces):
    relay = PeerSink(ports.get()).start()
    try:
        # No DNS server at all: a smart host needs none (TOP-2, TOP-4).
        gw2 = make_gateway(routes={"other.test": bounces.url}, dns={"servers": [f"127.0.0.1:{ports.get()}"]},
                           queue={"smart_host": relay.url})
        token = mwsys.unique("smarthost")
        qid = send(gw2, SENDER, ["someone@far-away.example"], _body(token))
        got = relay.wait_token(token)
        assert got.rcpt_tos == ["someone@far-away.example"]
        assert gw2.wait_delivered(qid)["nexthop"] == relay.url
    finally:
        relay.stop()


def test_a_bounce_is_never_bounced(make_gateway, ports):
    """The null sender's undeliverable message goes to bounce_notify once;
    that one failing too is logged and dropped."""
    down = PeerSink(ports.get())
    down.replies["RCPT"] = "550 5.1.1 nobody here"
    down.start()
    try:
        gw2 = make_gateway(routes={"example.test": down.url, "other.test": down.url},
                           queue={"bounce_notify": "postmaster@other.test"})
        qid = send(gw2, "", ["user@example.test"], _body(mwsys.unique("nullsender")))
        notice = gw2.wait_event(proc="queue", event="dsn_queued", about=qid)
        assert notice["to"] == "postmaster@other.test"
        gw2.wait_event(proc="queue", event="bounce_dropped", queue_id=notice["queue_id"])
        gw2.wait_event(proc="queue", event="removed", queue_id=notice["queue_id"])
        assert len(gw2.events(proc="queue", event="dsn_queued")) == 1
    finally:
        down.stop()


def test_message_bounces_after_its_lifetime_with_the_last_error(make_gateway, ports, bounces):
    slow = PeerSink(ports.get())
    slow.replies["RCPT"] = "451 4.2.1 mailbox busy"
    slow.start()
    try:
        gw2 = make_gateway(routes={"example.test": slow.url, "other.test": bounces.url},
                           queue={"retry_min": "1s", "retry_max": "1s", "lifetime": "3s"})
        token = mwsys.unique("lifetime")
        qid = send(gw2, SENDER, ["user@example.test"], _body(token))
        dsn = _bounce_for(bounces, token)
        _, rcpts, per_msg = parse_dsn(dsn)
        assert rcpts[0]["Action"] == "failed"
        assert rcpts[0]["Status"] == "4.4.7"
        assert "last error: 451 4.2.1 mailbox busy" in rcpts[0]["Diagnostic-Code"]
        assert len(gw2.events(proc="queue", event="delivery", queue_id=qid, status="deferred")) >= 2
        gw2.wait_event(proc="queue", event="removed", queue_id=qid)
    finally:
        slow.stop()
