"""DANE for SMTP, sender side (RFC 7672, TLS-8, issue 17): for an MX
destination whose MX records and the MX hosts' TLSA records at
"_25._tcp.<mx>" are DNSSEC-validated, the gateway requires TLS
authenticated by those records:

- DANE-EE 3 1 1 matching the MX's key delivers, verified, whatever name
  the (self-signed) certificate carries (RFC 7672 3.1.1: no name checks);
- a 3 1 1 record that does not match defers with 4.7.5, and so does an MX
  host that does not offer STARTTLS: nothing is sent in clear;
- DANE-TA 2 0 1 of a CA delivers when the MX's certificate, issued by it,
  names the MX host, and defers when it names another (3.2.3);
- a signed zone whose signatures do not validate (bogus) defers
  (RFC 7672 2.1.1);
- a signed zone without TLSA records and an unsigned zone (with a TLSA
  record that would not match) get opportunistic TLS (tls_policy=may).

The zones are served by nsd (signed with ldnsutils, see signed_zones.py);
the gateway's validator is libunbound with the test trust anchor,
forwarding to nsd. Every MX sink listens on queue.mx_port on its own
127.0.0.x address."""

import hashlib
import os
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import certs
import mwsys
from peers import RequireTlsSink, free_port_on, send, send_requiretls
from signed_zones import SignedZones

MX = {"ok": "127.0.0.71", "bad": "127.0.0.72", "ta": "127.0.0.73", "taname": "127.0.0.74",
      "none": "127.0.0.75", "nostarttls": "127.0.0.76", "plain": "127.0.0.77", "forged": "127.0.0.78",
      "rtls": "127.0.0.79", "pkix": "127.0.0.80"}
# RFC 8689: these offer REQUIRETLS after STARTTLS
REQUIRETLS_SINKS = ("rtls", "pkix", "plain")


def _load(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def _spki_sha256(cert_path):
    spki = _load(cert_path).public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def _cert_sha256(cert_path):
    return hashlib.sha256(_load(cert_path).public_bytes(serialization.Encoding.DER)).hexdigest()


def _mx(name, tlsa=None):
    recs = [f"{name} IN MX 10 mx.{name}", f"mx.{name} IN A {MX[name]}"]
    if tlsa:
        recs.append(f"_25._tcp.mx.{name} IN TLSA {tlsa}")
    return recs


@pytest.fixture(scope="module")
def mx_port(ports):
    """ports.get() checks 127.0.0.1 and ::1 only; the MX sinks listen on
    their own addresses, which another test run may be using."""
    return free_port_on(ports, MX.values())


@pytest.fixture(scope="module")
def server_certs(workdir, ca):
    """name -> (cert, key): self-signed for the DANE-EE hosts (under a name
    that is not the MX's), issued by the CA with the CA in the chain for
    the DANE-TA hosts."""
    d = os.path.join(workdir, "mx-certs")
    out = {}
    for name in ("ok", "bad", "none", "plain", "forged", "rtls"):
        out[name] = certs.make_cert(d, f"unrelated-{name}.example")
    for name, cn in (("ta", "mx.ta.dane.example"), ("taname", "wrong.example"), ("pkix", "mx.pkix.dane.example")):
        cert, key = ca.issue(cn, [f"DNS:{cn}"])
        chain = os.path.join(d, f"{name}-chain.crt")
        with open(chain, "w") as f:
            f.write(open(cert).read() + open(ca.cert).read())
        out[name] = (chain, key)
    return out


@pytest.fixture(scope="module")
def zones(workdir, ports, ca, server_certs):
    other_key = certs.make_cert(os.path.join(workdir, "other"), "other.example")[0]
    signed = {"dane.example": _mx("ok", f"3 1 1 {_spki_sha256(server_certs['ok'][0])}")
              + _mx("bad", f"3 1 1 {_spki_sha256(other_key)}")
              + _mx("ta", f"2 0 1 {_cert_sha256(ca.cert)}")
              + _mx("taname", f"2 0 1 {_cert_sha256(ca.cert)}")
              + _mx("none")
              + _mx("rtls", f"3 1 1 {_spki_sha256(server_certs['rtls'][0])}")
              + _mx("pkix")
              + _mx("nostarttls", f"3 1 1 {_spki_sha256(other_key)}")}
    unsigned = {"plain.example": [f"@ IN MX 10 mx", f"mx IN A {MX['plain']}",
                                  f"_25._tcp.mx IN TLSA 3 1 1 {_spki_sha256(other_key)}"]}
    # forged.example is signed, but the trust anchor names another key.
    signed["forged.example"] = ["@ IN MX 10 mx", f"mx IN A {MX['forged']}",
                                f"_25._tcp.mx IN TLSA 3 1 1 {_spki_sha256(server_certs['forged'][0])}"]
    # The zone files name hosts relative to their origin: "ok" is ok.dane.example.
    z = SignedZones(os.path.join(workdir, "zones"), ports.get(), signed, unsigned,
                    bogus=("forged.example",)).start()
    yield z
    z.stop()


@pytest.fixture(scope="module")
def mx_sinks(mx_port, server_certs):
    sinks = {}
    for name, addr in MX.items():
        ctx = None if name == "nostarttls" else certs.server_context(*server_certs[name])
        if name in REQUIRETLS_SINKS:
            sinks[name] = RequireTlsSink(mx_port, addr, ctx, True).start()
        else:
            sinks[name] = mwsys.Sink(mx_port, host=addr, tls_context=ctx).start()
    yield sinks
    for s in sinks.values():
        s.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, zones, mx_sinks, mx_port, ca):
    return make_gateway(sink=sink, dns={"servers": [zones.servers]},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"},
                        outbound_tls={"level": "may", "ca_file": ca.cert,
                                      "dane": {"enabled": True, "trust_anchor": zones.trust_anchor,
                                               "resolver": zones.resolver},
                                      "tlsrpt": {"enabled": True}})


def _send(gw, domain):
    token = mwsys.unique(domain.split(".")[0])
    body = f"From: sender@example.test\r\nSubject: {token}\r\nMessage-ID: <{token}@example.test>\r\n\r\n{token}\r\n"
    start = gw.mark()
    qid = send(gw, "sender@example.test", [f"user@{domain}"], body)
    return token, qid, start


def _deferred(gw, qid, start):
    return gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", start=start)


def test_dane_ee_match_delivers_verified_without_a_name_check(gw, mx_sinks):
    token, qid, start = _send(gw, "ok.dane.example")
    mx_sinks["ok"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "dane"
    assert event["tls_verified"] == "yes"
    assert event["tls"].startswith("TLSv1.")


def test_dane_ee_mismatch_defers_and_sends_nothing(gw, mx_sinks):
    token, qid, start = _send(gw, "bad.dane.example")
    event = _deferred(gw, qid, start)
    assert "4.7.5" in event["reply"] and "DANE" in event["reply"], event["reply"]
    assert event["tls_policy"] == "dane"
    # tried again (retry_min 1s): deferred again, never sent in clear
    gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", attempt="2", start=start)
    assert not mx_sinks["bad"].with_token(token)


def test_dane_host_without_starttls_defers_never_in_clear(gw, mx_sinks):
    token, qid, start = _send(gw, "nostarttls.dane.example")
    event = _deferred(gw, qid, start)
    assert "4.7.5" in event["reply"], event["reply"]
    assert event["tls_policy"] == "dane"
    assert not mx_sinks["nostarttls"].with_token(token)


def test_dane_ta_with_the_mx_name_delivers_verified(gw, mx_sinks):
    token, qid, start = _send(gw, "ta.dane.example")
    mx_sinks["ta"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "dane"
    assert event["tls_verified"] == "yes"


def test_dane_ta_with_another_name_defers(gw, mx_sinks):
    """RFC 7672 3.2.3: under DANE-TA the certificate must name the MX host."""
    token, qid, start = _send(gw, "taname.dane.example")
    event = _deferred(gw, qid, start)
    assert "4.7.5" in event["reply"] and "certificate" in event["reply"], event["reply"]
    assert not mx_sinks["taname"].with_token(token)


def test_signed_zone_without_tlsa_is_opportunistic(gw, mx_sinks):
    token, qid, start = _send(gw, "none.dane.example")
    mx_sinks["none"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "may"
    assert event["tls_verified"] == "no"


def test_unsigned_zone_ignores_its_tlsa_and_is_opportunistic(gw, mx_sinks):
    """plain.example is not signed: its TLSA record (which would not match)
    is not DNSSEC-validated, so DANE does not apply (RFC 7672 2.2)."""
    token, qid, start = _send(gw, "plain.example")
    mx_sinks["plain"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "may"
    assert event["tls"].startswith("TLSv1.")


def test_bogus_zone_defers_and_sends_nothing(gw, mx_sinks):
    """RFC 7672 2.1.1: signatures that do not validate are not "no DANE"
    (an attacker could forge that): the delivery waits."""
    token, qid, start = _send(gw, "forged.example")
    event = _deferred(gw, qid, start)
    assert "4.7.5 DANE: MX records of forged.example" in event["reply"], event["reply"]
    assert not mx_sinks["forged"].with_token(token)


def test_tlsrpt_counts_dane_sessions_under_policy_type_tlsa(gw, mx_sinks):
    """TLS-8, RFC 8460 4.3: a session authenticated by TLSA records is a
    success, a mismatch a certificate-host-mismatch, no STARTTLS
    starttls-not-supported, bogus records dnssec-invalid; a domain DANE
    does not apply to is not counted."""
    token, qid, start = _send(gw, "ok.dane.example")
    mx_sinks["ok"].wait_token(token)
    gw.wait_delivered(qid, start=start)
    for domain in ("bad.dane.example", "nostarttls.dane.example", "forged.example"):
        _deferred(gw, *_send(gw, domain)[1:])
    token, qid, start = _send(gw, "none.dane.example")
    mx_sinks["none"].wait_token(token)
    p = subprocess.run([gw.binary, "tlsrpt", "-c", gw.config_path, "show"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert re.search(r"^domain ok\.dane\.example policy tlsa\n  success \d+$", out, re.M), out
    assert re.search(r"^domain bad\.dane\.example policy tlsa\n  failure certificate-host-mismatch \d+ "
                     r"mx mx\.bad\.dane\.example ip 127\.0\.0\.72 reason no matching DANE TLSA records$",
                     out, re.M), out
    assert re.search(r"^domain nostarttls\.dane\.example policy tlsa\n  failure starttls-not-supported \d+ ",
                     out, re.M), out
    assert re.search(r"^domain forged\.example policy tlsa\n  failure dnssec-invalid \d+ ", out, re.M), out
    assert "none.dane.example" not in out and "plain.example" not in out


# --- REQUIRETLS (RFC 8689 4.2.1) over DANE ---------------------------------


def _send_requiretls(gw, domain):
    token = mwsys.unique(domain.split(".")[0])
    start = gw.mark()
    qid = send_requiretls(gw, "sender@example.test", f"user@{domain}",
                          f"From: sender@example.test\r\nSubject: {token}\r\n\r\n{token}\r\n")
    return token, qid, start


def test_requiretls_goes_to_a_dane_host_offering_it(gw, mx_sinks):
    token, qid, start = _send_requiretls(gw, "rtls.dane.example")
    msg = mx_sinks["rtls"].wait_token(token)
    assert "REQUIRETLS" in msg.mail_options
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "dane" and event["tls_verified"] == "yes"
    assert event["requiretls"] == "yes"


def test_requiretls_to_a_validated_mx_without_tlsa_needs_a_valid_certificate(gw, mx_sinks):
    """pkix.dane.example: signed MX, no TLSA; the certificate (of the CA
    in outbound_tls.ca_file) is valid for the MX name: delivered."""
    token, qid, start = _send_requiretls(gw, "pkix.dane.example")
    msg = mx_sinks["pkix"].wait_token(token)
    assert "REQUIRETLS" in msg.mail_options
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_verified"] == "yes" and event["requiretls"] == "yes"


def test_requiretls_to_a_dane_host_without_it_bounces(gw, mx_sinks):
    token, qid, start = _send_requiretls(gw, "ok.dane.example")
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="failed", start=start)
    assert event["reply"].startswith("550 5.7.30 ") and "REQUIRETLS not offered" in event["reply"], event
    assert event["tls_verified"] == "yes"
    assert not mx_sinks["ok"].with_token(token)


def test_requiretls_to_an_unsigned_zone_bounces_without_connecting(gw, mx_sinks):
    """plain.example's MX offers REQUIRETLS, but nothing authenticates its name."""
    before = mx_sinks["plain"].connections
    token, qid, start = _send_requiretls(gw, "plain.example")
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="failed", start=start)
    assert event["reply"].startswith("550 5.7.30 REQUIRETLS: "), event
    assert mx_sinks["plain"].connections == before
    assert not mx_sinks["plain"].with_token(token)
