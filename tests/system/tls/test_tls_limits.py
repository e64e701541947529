"""Implicit TLS never speaks cleartext, and TLS handshakes are rate limited
per client (issue 18 item 4, TLS-2, SEC-4). At the per-client cap, or when
a client is over limits.tls_handshakes_per_minute, the implicit-TLS port
closes the connection without a byte (RFC 8314: nothing in clear); on a
STARTTLS port the STARTTLS is answered 421 and the session ends. Trusted
networks (our own servers) are exempt from the handshake limit."""

import socket
import ssl

import pytest

import certs
import mwsys

LIMIT = 3


@pytest.fixture(scope="module")
def gw(make_gateway, ports, sink):
    return make_gateway(
        sink=sink,
        listeners=[
            {"name": "mta", "address": "127.0.0.1", "port": ports.get(), "tls": "starttls"},
            {"name": "smtps", "address": "127.0.0.1", "port": ports.get(), "tls": "implicit",
             "auth": "off"},
        ],
        limits={"connections_per_ip": 2, "tls_handshakes_per_minute": LIMIT})


def _raw_bytes_until_close(port, source):
    """Connect without TLS and return every byte the server sends before
    it closes (b"" if it closes at once)."""
    with socket.create_connection(("127.0.0.1", port), timeout=mwsys.TIMEOUT,
                                  source_address=(source, 0)) as s:
        data = b""
        try:
            while chunk := s.recv(4096):
                data += chunk
        except ConnectionResetError:
            pass
        return data


def _implicit_session(gw, source):
    c = mwsys.SmtpClient(gw.listener_port("smtps"), source=source, tls_context=certs.client_context())
    assert c.greeting().code == 220
    return c


def test_implicit_tls_port_at_the_per_client_cap_closes_without_cleartext(gw):
    source = mwsys.ADDRESSES.get()
    start = gw.mark()
    with _implicit_session(gw, source), _implicit_session(gw, source):
        data = _raw_bytes_until_close(gw.listener_port("smtps"), source)
    assert data == b"", f"cleartext on the implicit-TLS port: {data!r}"
    gw.wait_event(proc="smtpd", event="refused", client=source, listener="smtps", start=start)


def test_starttls_port_at_the_per_client_cap_still_answers_421(gw):
    source = mwsys.ADDRESSES.get()
    with mwsys.SmtpClient(gw.listener_port("mta"), source=source), mwsys.SmtpClient(gw.listener_port("mta"), source=source):
        data = _raw_bytes_until_close(gw.listener_port("mta"), source)
    assert data.startswith(b"421 4.7.0"), data


def test_starttls_beyond_the_handshake_limit_is_answered_421_and_the_session_ends(gw):
    source = mwsys.ADDRESSES.get()
    start = gw.mark()
    for _ in range(LIMIT):
        with mwsys.SmtpClient(gw.listener_port("mta"), source=source) as c:
            c.greeting()
            c.ehlo()
            assert c.starttls(certs.client_context()).code == 220
            assert c.ehlo().code == 250
    with mwsys.SmtpClient(gw.listener_port("mta"), source=source) as c:
        c.greeting()
        c.ehlo()
        r = c.cmd("STARTTLS")
        assert r.code == 421 and "too many TLS handshakes" in r.text, r
        assert c.at_eof()
    gw.wait_event(proc="smtpd", event="reject", client=source, command="TLS", start=start)
    # The limit is per client: another address is served.
    with mwsys.SmtpClient(gw.listener_port("mta")) as c:
        c.greeting()
        c.ehlo()
        assert c.starttls(certs.client_context()).code == 220


def test_implicit_tls_beyond_the_handshake_limit_closes_without_cleartext(gw):
    source = mwsys.ADDRESSES.get()
    for _ in range(LIMIT):
        with _implicit_session(gw, source) as c:
            assert c.ehlo().code == 250
    assert _raw_bytes_until_close(gw.listener_port("smtps"), source) == b""
    with pytest.raises((ssl.SSLError, mwsys.Closed, OSError)):
        _implicit_session(gw, source)


def test_trusted_networks_are_exempt_from_the_handshake_limit(gw):
    for _ in range(LIMIT + 2):
        with mwsys.SmtpClient(gw.listener_port("mta"), source="127.0.0.10") as c:
            c.greeting()
            c.ehlo()
            assert c.starttls(certs.client_context()).code == 220
