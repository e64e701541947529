"""Outbound TLS (TLS-5, TLS-7): STARTTLS when the next hop offers it; per
destination domain none / may / encrypt / verify with a minimum version.
Under encrypt and verify a peer without STARTTLS, with a weaker version
or (verify) a certificate that does not match is deferred (4xx), never
sent in clear. The delivery log line names the TLS used."""

import os
import ssl

import pytest

import certs
import mwsys

TRUSTED = "127.0.0.10"


@pytest.fixture(scope="module")
def tls_sink(make_sink, ca):
    """STARTTLS with a certificate of the test CA for 127.0.0.1."""
    cert, key = ca.issue("sink.test", ["DNS:sink.test", "IP:127.0.0.1"])
    sink = mwsys.Sink(mwsys.PORTS.get(), tls_context=certs.server_context(cert, key))
    make_sink.sinks.append(sink)
    return sink.start()


@pytest.fixture(scope="module")
def selfsigned_sink(make_sink, workdir):
    cert, key = certs.make_cert(os.path.join(workdir, "self"), "self.test", ["DNS:self.test"])
    sink = mwsys.Sink(mwsys.PORTS.get(), tls_context=certs.server_context(cert, key))
    make_sink.sinks.append(sink)
    return sink.start()


@pytest.fixture(scope="module")
def wrong_name_sink(make_sink, ca):
    """A certificate of the trusted CA, but for another name."""
    cert, key = ca.issue("wrong.test", ["DNS:wrong.test"])
    sink = mwsys.Sink(mwsys.PORTS.get(), tls_context=certs.server_context(cert, key))
    make_sink.sinks.append(sink)
    return sink.start()


@pytest.fixture(scope="module")
def old_sink(make_sink, ca):
    cert, key = ca.issue("old.test", ["DNS:old.test", "IP:127.0.0.1"])
    ctx = certs.server_context(cert, key, maximum_version=ssl.TLSVersion.TLSv1_2)
    sink = mwsys.Sink(mwsys.PORTS.get(), tls_context=ctx)
    make_sink.sinks.append(sink)
    return sink.start()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, tls_sink, selfsigned_sink, wrong_name_sink, old_sink, ca):
    return make_gateway(
        trusted_networks=[f"{TRUSTED}/32"],
        routes={"plain.test": sink.url, "plain-may.test": sink.url, "tls.test": tls_sink.url,
                "verified.test": tls_sink.url, "forged.test": selfsigned_sink.url,
                "misnamed.test": wrong_name_sink.url, "misnamed-may.test": wrong_name_sink.url,
                "old.test": old_sink.url, "old-ok.test": old_sink.url, "cleartext.test": tls_sink.url},
        outbound_tls={"level": "may", "min_version": "TLSv1.2", "ca_file": ca.cert},
        tls_policy={"plain.test": "encrypt", "verified.test": "verify", "forged.test": "verify",
                    "misnamed.test": "verify",
                    "old.test": "encrypt TLSv1.3", "cleartext.test": "none"})


def _send(gw, rcpt):
    token = mwsys.unique("out")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port, source=TRUSTED) as c:
        c.greeting()
        c.ehlo()
        final = c.transaction("a@b.test", [rcpt], f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert final.code == 250, final
    delivery = gw.wait_event(proc="queue", event="delivery", queue_id=mwsys.queue_id(final), start=start)
    return token, delivery


def test_opportunistic_starttls_is_used_and_logged(gw, tls_sink):
    token, delivery = _send(gw, "user@tls.test")
    assert delivery["status"] == "sent", delivery
    assert delivery["tls"].startswith("TLSv1.3/TLS_"), delivery
    tls_sink.wait_token(token)


def test_opportunistic_without_starttls_goes_in_clear(gw, sink):
    token, delivery = _send(gw, "user@plain-may.test")
    assert delivery["status"] == "sent" and delivery["tls"] == "none", delivery
    sink.wait_token(token)


def test_encrypt_to_a_peer_without_starttls_is_deferred(gw, sink):
    token, delivery = _send(gw, "user@plain.test")
    assert delivery["status"] == "deferred", delivery
    assert delivery["reply"].startswith("451 4.7.5") and "STARTTLS" in delivery["reply"], delivery
    assert sink.with_token(token) == []
    assert not any("user@plain.test" in m.rcpt_tos for m in sink.messages)


def test_verify_with_a_valid_certificate_is_sent(gw, tls_sink):
    token, delivery = _send(gw, "user@verified.test")
    assert delivery["status"] == "sent", delivery
    assert delivery["tls"].startswith("TLSv1.3/"), delivery
    tls_sink.wait_token(token)


def test_verify_with_an_untrusted_certificate_is_deferred(gw, selfsigned_sink):
    token, delivery = _send(gw, "user@forged.test")
    assert delivery["status"] == "deferred", delivery
    assert "certificate" in delivery["reply"], delivery
    assert selfsigned_sink.with_token(token) == []


def test_verify_with_a_certificate_for_another_name_is_deferred(gw, wrong_name_sink):
    token, delivery = _send(gw, "user@misnamed.test")
    assert delivery["status"] == "deferred", delivery
    assert "certificate" in delivery["reply"], delivery
    assert wrong_name_sink.with_token(token) == []


def test_may_does_not_check_the_certificate(gw, wrong_name_sink):
    token, delivery = _send(gw, "user@misnamed-may.test")
    assert delivery["status"] == "sent" and delivery["tls"].startswith("TLSv1.3/"), delivery
    wrong_name_sink.wait_token(token)


def test_weaker_version_than_required_is_deferred(gw, old_sink):
    token, delivery = _send(gw, "user@old.test")
    assert delivery["status"] == "deferred", delivery
    assert delivery["reply"].startswith("451 4.7.5"), delivery
    assert old_sink.with_token(token) == []


def test_tls1_2_peer_accepted_where_1_2_is_enough(gw, old_sink):
    token, delivery = _send(gw, "user@old-ok.test")
    assert delivery["status"] == "sent", delivery
    assert delivery["tls"].startswith("TLSv1.2/ECDHE"), delivery
    old_sink.wait_token(token)


def test_level_none_never_starts_tls(gw, tls_sink):
    token, delivery = _send(gw, "user@cleartext.test")
    assert delivery["status"] == "sent" and delivery["tls"] == "none", delivery
    tls_sink.wait_token(token)
