"""REQUIRETLS (RFC 8689, TLS-8, issue 17), receiving side: the EHLO
keyword is offered only on a TLS session (after STARTTLS, or on an
implicit-TLS listener); "MAIL FROM:<...> REQUIRETLS" in clear is refused
with 530 5.7.10, over TLS it is accepted and the message is queued with
the requirement (its delivery line says requiretls=yes); the parameter
takes no value and may appear once. Delivery itself:
tests/system/delivery/test_requiretls.py."""

import pytest

import certs
import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, ports, sink):
    return make_gateway(
        sink=sink,
        listeners=[
            {"name": "mta", "address": "127.0.0.1", "port": ports.get(), "tls": "starttls"},
            {"name": "smtps", "address": "127.0.0.1", "port": ports.get(), "tls": "implicit"},
        ])


def _starttls_client(gw):
    c = mwsys.SmtpClient(gw.port)
    assert c.greeting().code == 220
    assert "REQUIRETLS" not in c.ehlo().keywords, "offered in clear"
    assert c.starttls(certs.client_context()).code == 220
    return c


def test_ehlo_offers_requiretls_only_after_starttls(gw):
    with _starttls_client(gw) as c:
        assert "REQUIRETLS" in c.ehlo().keywords


def test_implicit_tls_listener_offers_requiretls(gw):
    with mwsys.SmtpClient(gw.listener_port("smtps"), tls_context=certs.client_context()) as c:
        assert c.greeting().code == 220
        assert "REQUIRETLS" in c.ehlo().keywords


def test_mail_from_requiretls_in_clear_is_refused(gw):
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        r = c.cmd("MAIL FROM:<a@b.test> REQUIRETLS")
        assert r.code == 530 and r.enhanced == "5.7.10", r
        # the session goes on: the same sender without the parameter is fine
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250


@pytest.mark.parametrize("params,code", [
    (" REQUIRETLS", 250),
    (" requiretls SIZE=100", 250),
    (" REQUIRETLS REQUIRETLS", 501),
    (" REQUIRETLS=YES", 501),
])
def test_mail_from_requiretls_over_tls(gw, params, code):
    with _starttls_client(gw) as c:
        c.ehlo()
        r = c.cmd(f"MAIL FROM:<a@b.test>{params}")
        assert r.code == code, r


def test_accepted_message_is_queued_with_the_requirement(gw, sink):
    """example.test's route runs under level may: the message is refused
    for that hop with 5.7.30, never sent; the flag came through the spool."""
    token = mwsys.unique("rtls")
    start = gw.mark()
    with _starttls_client(gw) as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<> REQUIRETLS").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        reply = c.data(f"Subject: {token}\r\n\r\n{token}\r\n".encode())
    assert reply.code == 250, reply
    qid = mwsys.queue_id(reply)
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, start=start)
    assert event["requiretls"] == "yes"
    assert event["status"] == "failed" and event["reply"].startswith("550 5.7.30 "), event
    assert not sink.with_token(token)
    mail = gw.wait_event(proc="smtpd", event="mail", start=start, requiretls="yes")
    assert mail["from"] == ""


def test_message_without_it_is_not_marked(gw, sink):
    token = mwsys.unique("plain")
    start = gw.mark()
    qid = mwsys.send_token(gw, token)
    sink.wait_token(token)
    assert gw.wait_delivered(qid, start=start)["requiretls"] == "no"
