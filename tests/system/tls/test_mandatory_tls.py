"""TLS-6: mail for a domain marked in tls_required_domains is refused
over a non-TLS session with 530 5.7.0 and a clear text; other domains
are not affected, and the same recipient is accepted after STARTTLS."""

import pytest

import certs
import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(
        sink=sink,
        local_domains=["example.test", "secure.test"],
        tls_required_domains=["secure.test"],
        routes={"example.test": sink.url, "secure.test": sink.url})


def test_plaintext_refused_for_the_marked_domain(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        r = c.cmd("RCPT TO:<user@SECURE.test>")
        assert r.code == 530 and r.enhanced == "5.7.0", r
        assert "accepting only secure delivery (STARTTLS) for SECURE.test" in r.text, r
        assert c.cmd("RCPT TO:<user@example.test>").code == 250


def test_accepted_after_starttls(gw, sink):
    token = mwsys.unique("secure")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        c.starttls(certs.client_context())
        c.ehlo()
        final = c.transaction("a@b.test", ["user@secure.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert final.code == 250
    assert sink.wait_token(token).rcpt_tos == ["user@secure.test"]
