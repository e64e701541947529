"""Cross-protocol attacks on the TLS listeners (ALPACA; issue 18 item 3,
SEC-2, SEC-4). A TLS handshake whose ALPN list names only other protocols
(a browser's http/1.1, h2) fails with the no_application_protocol alert,
on STARTTLS and on implicit TLS; a client that sends no ALPN, or names
"smtp", is served. A command line that looks like HTTP (a request line or
a header field) ends the session at once with a 5xx, in clear or in TLS."""

import socket
import ssl
import subprocess

import pytest

import certs
import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, ports, sink):
    return make_gateway(
        sink=sink,
        listeners=[
            {"name": "mta", "address": "127.0.0.1", "port": ports.get(), "tls": "starttls"},
            {"name": "smtps", "address": "127.0.0.1", "port": ports.get(), "mode": "submission",
             "tls": "implicit", "auth": "required"},
        ])


def _alpn_context(protocols):
    ctx = certs.client_context()
    if protocols:
        ctx.set_alpn_protocols(protocols)
    return ctx


def _handshake(gw, listener, protocols):
    """The TLS socket after a handshake offering `protocols` in ALPN."""
    if listener == "smtps":
        c = mwsys.SmtpClient(gw.listener_port("smtps"), tls_context=_alpn_context(protocols))
        c.sock.do_handshake()
        return c
    c = mwsys.SmtpClient(gw.listener_port("mta"))
    c.greeting()
    c.ehlo()
    c.starttls(_alpn_context(protocols))
    c.sock.do_handshake()
    return c


@pytest.mark.parametrize("listener", ["mta", "smtps"])
@pytest.mark.parametrize("protocols", [["http/1.1"], ["h2", "http/1.1"], ["imap"]],
                         ids=["http1", "h2_http1", "imap"])
def test_handshake_offering_only_other_protocols_is_refused(gw, listener, protocols):
    with pytest.raises(ssl.SSLError, match="NO_APPLICATION_PROTOCOL|no application protocol"):
        _handshake(gw, listener, protocols).close()


@pytest.mark.parametrize("listener", ["mta", "smtps"])
@pytest.mark.parametrize("protocols", [None, ["smtp"], ["http/1.1", "smtp"]], ids=["none", "smtp", "http1_smtp"])
def test_handshake_without_alpn_or_naming_smtp_is_served(gw, listener, protocols):
    with _handshake(gw, listener, protocols) as c:
        assert c.sock.selected_alpn_protocol() == ("smtp" if protocols else None)
        if listener == "smtps":
            assert c.greeting().code == 220
        assert c.ehlo().code == 250


def test_openssl_s_client_with_alpn_http_gets_the_alert(gw):
    proc = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{gw.listener_port('smtps')}", "-alpn", "http/1.1",
         "-servername", "mx.gw.test"],
        input=b"", capture_output=True, timeout=20)
    err = proc.stderr.decode(errors="replace") + proc.stdout.decode(errors="replace")
    assert proc.returncode != 0, err
    assert "no application protocol" in err, err


HTTP_LINES = {
    "get": "GET / HTTP/1.1",
    "post": "POST /login HTTP/1.1",
    "connect": "CONNECT mx.gw.test:25 HTTP/1.1",
    "head_lowercase": "head / HTTP/1.0",
    "host_header": "Host: mx.gw.test",
    "user_agent_header": "User-Agent: Mozilla/5.0",
}


@pytest.mark.parametrize("line", HTTP_LINES.values(), ids=HTTP_LINES.keys())
def test_http_looking_line_ends_the_session_with_554(gw, line):
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.send(line + "\r\n")
        replies = c.replies_until_closed()
        assert c.closed or c.at_eof()
        source = c.source
    assert len(replies) == 1 and replies[0].code == 554 and "HTTP" in replies[0].text, replies
    session = gw.wait_session_end(source, start=start)
    gw.wait_event(proc="smtpd", event="reject", session=session, command="HTTP", start=start)


def test_http_request_inside_implicit_tls_ends_the_session(gw):
    """A browser that got through the handshake without ALPN."""
    with mwsys.SmtpClient(gw.listener_port("smtps"), tls_context=certs.client_context()) as c:
        assert c.greeting().code == 220
        c.send("GET / HTTP/1.1\r\nHost: mx.gw.test\r\n\r\n")
        replies = c.replies_until_closed()
    assert [r.code for r in replies] == [554], replies
