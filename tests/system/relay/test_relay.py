"""Relay control: local domains take mail from anyone, other domains only
from trusted_networks (127.0.0.10/32 here); every other client gets
554 5.7.1 Relay access denied, however the address is dressed up."""

import smtplib

import pytest

import mwsys

TRUSTED = "127.0.0.10"
UNTRUSTED = "127.0.0.2"


@pytest.fixture(scope="module")
def local_sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def remote_sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, ports, local_sink, remote_sink):
    listeners = [{"name": "mta", "address": "127.0.0.1", "port": ports.get()}]
    if mwsys.ipv6_loopback_available():
        listeners.append({"name": "mta6", "address": "::1", "port": ports.get()})
    return make_gateway(
        listeners=listeners,
        trusted_networks=[f"{TRUSTED}/32"],
        routes={"example.test": local_sink.url, ".example.test": local_sink.url,
                "remote.test": remote_sink.url, "other.test": "maildir:maildir/other.test"})


def _smtp(gw, source):
    client = smtplib.SMTP("127.0.0.1", gw.port, source_address=(source, 0),
                          local_hostname="client.test", timeout=mwsys.REPLY_TIMEOUT)
    client.ehlo()
    return client


def _rcpt(gw, source, rcpt):
    with _smtp(gw, source) as client:
        code, _ = client.mail("a@b.test")
        assert code == 250
        return client.rcpt(rcpt)


def _send(gw, source, rcpts, token):
    """A whole transaction; returns (per-recipient replies, final reply)."""
    with mwsys.SmtpClient(gw.port, source=source) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        replies = {rcpt: c.cmd(f"RCPT TO:<{rcpt}>") for rcpt in rcpts}
        if not any(r.code == 250 for r in replies.values()):
            return replies, None
        return replies, c.data(f"Subject: {token}\r\n\r\nrelay test\r\n".encode())


NOT_LOCAL = {
    "remote_domain": "user@remote.test",
    "unrouted_domain": "user@elsewhere.test",
    "suffix_of_local": "user@notexample.test",
    "local_as_prefix": "user@example.test.evil.test",
    "subdomain_of_local": "user@sub.example.test",
    "address_literal": "user@[127.0.0.1]",
}


@pytest.mark.parametrize("rcpt", NOT_LOCAL.values(), ids=NOT_LOCAL.keys())
def test_untrusted_client_cannot_relay(gw, rcpt):
    code, text = _rcpt(gw, UNTRUSTED, rcpt)
    assert code == 554, (code, text)
    assert text.startswith(b"5.7.1") and b"Relay access denied" in text, text


ROUTED_TRICKS = {
    "percent_hack": "user%remote.test@example.test",
    "bang_path": "remote.test!user@example.test",
    "source_route": "@remote.test:user@example.test",
    "quoted_at": '"user@remote.test"@example.test',
    "percent_hack_upper": "user%REMOTE.TEST@example.test",
}


@pytest.mark.parametrize("rcpt", ROUTED_TRICKS.values(), ids=ROUTED_TRICKS.keys())
def test_percent_hack_is_refused(gw, local_sink, remote_sink, rcpt):
    """Refused, or taken for the local domain: never relayed to remote.test."""
    token = mwsys.unique("trick")
    start = gw.mark()
    replies, final = _send(gw, UNTRUSTED, [rcpt], token)
    reply = replies[rcpt]
    if reply.code != 250:
        assert 500 <= reply.code < 600, reply
        return
    assert final is not None and final.code == 250, final
    qid = mwsys.queue_id(final)
    delivery = gw.wait_event(proc="queue", event="delivery", queue_id=qid, start=start)
    assert delivery["nexthop"] == local_sink.url, delivery
    assert delivery["status"] == "sent", delivery
    local_sink.wait_token(token)
    assert remote_sink.with_token(token) == [], "relayed to remote.test for an untrusted client"


def test_trusted_client_relays_to_next_hop(gw, remote_sink):
    token = mwsys.unique("trusted")
    start = gw.mark()
    replies, final = _send(gw, TRUSTED, ["user@remote.test"], token)
    assert replies["user@remote.test"].code == 250, replies
    assert final.code == 250, final
    qid = mwsys.queue_id(final)
    delivery = gw.wait_delivered(qid, to="user@remote.test", start=start)
    assert delivery["nexthop"] == remote_sink.url, delivery
    msg = remote_sink.wait_token(token)
    assert msg.rcpt_tos == ["user@remote.test"]
    assert msg.mail_from == "a@b.test"


def test_untrusted_mixed_recipients_only_local_delivered(gw, local_sink, remote_sink):
    token = mwsys.unique("mixed")
    replies, final = _send(gw, UNTRUSTED, ["user@example.test", "user@remote.test"], token)
    assert replies["user@example.test"].code == 250
    assert replies["user@remote.test"].code == 554
    assert final.code == 250, final
    msg = local_sink.wait_token(token)
    assert msg.rcpt_tos == ["user@example.test"]
    assert remote_sink.with_token(token) == []


LOCAL = {
    "example": "user@example.test",
    "upper_case_domain": "user@EXAMPLE.TEST",
    "other": "user@other.test",
}


@pytest.mark.parametrize("source", [UNTRUSTED, TRUSTED, "127.77.200.1"],
                         ids=["untrusted", "trusted", "unknown"])
@pytest.mark.parametrize("rcpt", LOCAL.values(), ids=LOCAL.keys())
def test_local_domain_accepted_from_anyone(gw, source, rcpt):
    code, text = _rcpt(gw, source, rcpt)
    assert code == 250, (code, text)


def test_local_domain_delivered_from_untrusted_client(gw, local_sink):
    token = mwsys.unique("local")
    start = gw.mark()
    replies, final = _send(gw, UNTRUSTED, ["someone@example.test"], token)
    assert final.code == 250, final
    delivery = gw.wait_delivered(mwsys.queue_id(final), start=start)
    assert delivery["nexthop"] == local_sink.url
    assert local_sink.wait_token(token).rcpt_tos == ["someone@example.test"]


def _v6_port(gw):
    for listener in gw.config["listeners"]:
        if listener["address"] == "::1":
            return listener["port"]
    pytest.skip("::1 is not available on this host")


def test_ipv6_listener_accepts_local_domain(gw, local_sink):
    port = _v6_port(gw)
    token = mwsys.unique("v6")
    start = gw.mark()
    with mwsys.SmtpClient(port, host="::1") as c:
        assert c.greeting().code == 220
        c.ehlo()
        final = c.transaction("a@b.test", ["v6@example.test"], f"Subject: {token}\r\n\r\nv6\r\n".encode())
    assert final.code == 250, final
    connect = gw.wait_event(proc="smtpd", event="connect", client="::1", start=start)
    assert connect["session"]
    local_sink.wait_token(token)


def test_ipv6_client_outside_trusted_networks_cannot_relay(gw):
    port = _v6_port(gw)
    with mwsys.SmtpClient(port, host="::1") as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        reply = c.cmd("RCPT TO:<user@remote.test>")
    assert reply.code == 554 and reply.enhanced == "5.7.1", reply
