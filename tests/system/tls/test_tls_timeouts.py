"""A client that never does its TLS handshake (on the implicit TLS port,
or after STARTTLS) does not hold a session: it is dropped after the
command timeout, since no reply could reach it anyway."""

import pytest

import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, ports):
    return make_gateway(
        listeners=[
            {"name": "mta", "address": "127.0.0.1", "port": ports.get()},
            {"name": "smtps", "address": "127.0.0.1", "port": ports.get(), "tls": "implicit"},
        ],
        limits={"command_timeout": "1s"})


def test_silent_client_on_the_implicit_port_is_dropped(gw):
    start = gw.mark()
    with mwsys.SmtpClient(gw.listener_port("smtps")) as c:
        session = gw.session_of(c.source, start=start)
        gw.wait_event(proc="smtpd", event="timeout", session=session, wait="tls", start=start)
        gw.wait_event(proc="smtpd", event="disconnect", session=session, start=start)
        assert c.at_eof(timeout=2)


def test_client_silent_after_starttls_is_dropped(gw):
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("STARTTLS").code == 220
        session = gw.session_of(c.source, start=start)
        gw.wait_event(proc="smtpd", event="timeout", session=session, wait="tls", start=start)
        gw.wait_event(proc="smtpd", event="disconnect", session=session, start=start)
        assert c.at_eof(timeout=2)
