"""REQUIRETLS (RFC 8689, TLS-8, issue 17), delivery side: a message sent
with "MAIL FROM:<...> REQUIRETLS" (over STARTTLS to the gateway) goes on
only to a next hop whose TLS is authenticated by the destination's
MTA-STS policy in enforce mode (or DANE; or, for a static route, a
tls_policy of verify) and which offers REQUIRETLS after STARTTLS; the
parameter is passed on. Otherwise the recipient bounces at once with
5.7.30 and nothing of the message is sent. "TLS-Required: No" (RFC 8689
5) makes the gateway ignore MTA-STS for that message, unless it was also
sent with REQUIRETLS.

MTA-STS as in test_mta_sts.py: dnsmasq for MX/TXT, a local HTTPS policy
host with certificates of a throwaway CA the gateway trusts. The MX sinks
listen on queue.mx_port, each on its own 127.0.0.x address; some offer
REQUIRETLS (an aiosmtpd SMTP that accepts the parameter). Bounces go to
the sender's domain, snd.test, through a static route to a host name
(resolved by dnsmasq) with tls_policy verify: the report of a REQUIRETLS
message is itself sent with REQUIRETLS, over a hop that may carry it."""


import pytest

import certs
import mwsys
from peers import Dnsmasq, LmtpServer, RequireTlsSink, free_port_on, parse_dsn, send_requiretls
from policy_host import WELL_KNOWN, PolicyHost, policy_text

# name -> (address, offers REQUIRETLS, certificate valid for the MX name, MTA-STS enforce policy)
MX = {
    "rtls": ("127.0.0.81", True, True, True),       # everything right: delivered
    "norq": ("127.0.0.82", False, True, True),      # verified, but no REQUIRETLS
    "nopol": ("127.0.0.83", True, True, False),     # no MTA-STS policy: unauthenticated MX
    "badcert": ("127.0.0.84", True, False, True),   # certificate for another name
    "optout": ("127.0.0.85", False, False, True),   # for TLS-Required: No
}
BOUNCE_ADDR = "127.0.0.86"   # bounce.snd.test: where reports to snd.test go


def _policy(name):
    return f"version: STSv1\r\nmode: enforce\r\nmx: mx.{name}.test\r\nmax_age: 86400\r\n"


def _records():
    recs = [f"--host-record=bounce.snd.test,{BOUNCE_ADDR}"]
    for name, (addr, _, _, sts) in MX.items():
        domain = f"{name}.test"
        recs += [f"--mx-host={domain},mx.{domain},10", f"--host-record=mx.{domain},{addr}",
                 f"--host-record=mta-sts.{domain},127.0.0.1"]
        if sts:
            recs.append(f"--txt-record=_mta-sts.{domain},v=STSv1; id=1;")
    return recs


def _answer(domain, path):
    name = domain.removesuffix(".test")
    if path != WELL_KNOWN or name not in MX:
        return None
    return policy_text(_policy(name))


@pytest.fixture(scope="module")
def mx_port(ports):
    return free_port_on(ports, [a for a, *_ in MX.values()] + [BOUNCE_ADDR])


@pytest.fixture(scope="module")
def dns(ports):
    d = Dnsmasq(ports.get(), _records()).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def policy_host(ports, ca):
    cert, key = ca.issue("mta-sts.test", [f"DNS:mta-sts.{name}.test" for name in MX])
    host = PolicyHost(ports.get(), cert, key, _answer)
    yield host
    host.stop()


@pytest.fixture(scope="module")
def mx_sinks(mx_port, ca):
    sinks = {}
    for name, (addr, requiretls, cert_ok, _) in MX.items():
        cn = f"mx.{name}.test" if cert_ok else "wrong.test"
        cert, key = ca.issue(cn, [f"DNS:{cn}"])
        sinks[name] = RequireTlsSink(mx_port, addr, certs.server_context(cert, key), requiretls).start()
    yield sinks
    for s in sinks.values():
        s.stop()


@pytest.fixture(scope="module")
def bounces(mx_port, ca):
    cert, key = ca.issue("bounce.snd.test")
    s = RequireTlsSink(mx_port, BOUNCE_ADDR, certs.server_context(cert, key), True).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def lmtp(ports):
    server = LmtpServer(port=ports.get()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, dns, mx_sinks, bounces, mx_port, policy_host, ca, lmtp):
    return make_gateway(sink=sink, dns={"servers": [dns.servers]},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"},
                        routes={"example.test": sink.url, "snd.test": f"smtp://bounce.snd.test:{mx_port}",
                                "final.test": f"lmtp://127.0.0.1:{lmtp.port}", "other.test": "maildir:maildir/other.test"},
                        outbound_tls={"level": "may", "ca_file": ca.cert,
                                      "mta_sts": {"enabled": True, "ca_file": ca.cert, "fetch_timeout_ms": 3000,
                                                  "https_port": policy_host.port}},
                        tls_policy={"snd.test": "verify"})


SENDER = "sender@snd.test"


def _body(token, extra=""):
    return (f"From: {SENDER}\r\nSubject: {token}\r\nMessage-ID: <{token}@snd.test>\r\n{extra}\r\n"
            f"secret body {token}\r\n")


def _send(gw, rcpt, requiretls=True, extra=""):
    """One message over STARTTLS; (token, queue id, log mark)."""
    token = mwsys.unique(rcpt.split("@")[1].split(".")[0])
    start = gw.mark()
    qid = send_requiretls(gw, SENDER, rcpt, _body(token, extra), requiretls=requiretls)
    return token, qid, start


def _bounced(gw, qid, start):
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="failed", start=start)
    assert event["reply"].startswith("550 5.7.30 "), event["reply"]
    assert event["requiretls"] == "yes"
    return event


def test_delivered_to_a_verified_peer_offering_requiretls_which_gets_the_parameter(gw, mx_sinks):
    token, qid, start = _send(gw, "user@rtls.test")
    msg = mx_sinks["rtls"].wait_token(token)
    assert "REQUIRETLS" in msg.mail_options, msg.mail_options
    event = gw.wait_delivered(qid, start=start)
    assert event["requiretls"] == "yes"
    assert event["tls_policy"] == "mta-sts"
    assert event["tls_verified"] == "yes"
    mail = gw.wait_event(proc="smtpd", event="mail", start=start, **{"from": SENDER})
    assert mail["requiretls"] == "yes"


def test_peer_without_requiretls_bounces_5_7_30_and_gets_nothing(gw, mx_sinks, bounces):
    token, qid, start = _send(gw, "user@norq.test")
    event = _bounced(gw, qid, start)
    assert "REQUIRETLS not offered" in event["reply"]
    assert event["tls_verified"] == "yes"
    # the report reaches the sender, with REQUIRETLS and without the body
    dsn = bounces.wait_for(lambda m: m.mail_from in ("", "<>") and token.encode() in m.data)[0]
    assert "REQUIRETLS" in dsn.mail_options
    msg, rcpts, _ = parse_dsn(dsn)
    assert rcpts[0]["Action"] == "failed"
    assert "5.7.30" in rcpts[0]["Status"] + rcpts[0]["Diagnostic-Code"]
    assert f"secret body {token}".encode() not in dsn.data
    assert not mx_sinks["norq"].with_token(token)


def test_destination_without_mta_sts_or_dane_bounces_without_connecting(gw, mx_sinks):
    """nopol.test's MX offers REQUIRETLS with a valid certificate, but its
    name comes from unauthenticated DNS (RFC 8689 4.2.1)."""
    before = mx_sinks["nopol"].connections
    token, qid, start = _send(gw, "user@nopol.test")
    event = _bounced(gw, qid, start)
    assert "no MTA-STS (enforce) policy and no DNSSEC-validated MX" in event["reply"]
    assert mx_sinks["nopol"].connections == before
    assert not mx_sinks["nopol"].with_token(token)


def test_certificate_not_valid_for_the_mx_bounces_and_nothing_is_sent(gw, mx_sinks):
    token, qid, start = _send(gw, "user@badcert.test")
    event = _bounced(gw, qid, start)
    assert "certificate" in event["reply"], event["reply"]
    assert event["tls_verified"] == "no"
    assert not mx_sinks["badcert"].with_token(token)
    # permanent: never tried again, never in clear
    assert not gw.events(start=start, proc="queue", event="delivery", queue_id=qid, status="deferred")


def test_static_route_without_verify_bounces(gw, sink):
    """example.test's route runs under outbound_tls.level may."""
    token, qid, start = _send(gw, "user@example.test")
    event = _bounced(gw, qid, start)
    assert "TLS policy is not verify" in event["reply"]
    assert not sink.with_token(token)


def test_tls_required_no_ignores_a_failing_mta_sts_policy(gw, mx_sinks):
    """optout.test's enforce policy would defer (the certificate names
    another host); the sender's "TLS-Required: No" has it ignored."""
    token, qid, start = _send(gw, "user@optout.test", requiretls=False, extra="TLS-Required: No\r\n")
    msg = mx_sinks["optout"].wait_token(token)
    assert b"TLS-Required: No" in msg.data
    assert "REQUIRETLS" not in msg.mail_options
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "may"
    assert event["tls_verified"] == "no"
    assert event["requiretls"] == "no"
    gw.wait_event(proc="queue", event="tls_required_no", queue_id=qid, start=start)


def test_without_the_header_the_same_policy_defers(gw, mx_sinks):
    token, qid, start = _send(gw, "user@optout.test", requiretls=False)
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", start=start)
    assert "4.7.5" in event["reply"] and "MTA-STS" in event["reply"]
    assert not mx_sinks["optout"].with_token(token)


def test_tls_required_no_is_ignored_with_requiretls(gw, mx_sinks):
    """RFC 8689 4.1: the REQUIRETLS parameter wins over the header."""
    token, qid, start = _send(gw, "user@optout.test", extra="TLS-Required: No\r\n")
    _bounced(gw, qid, start)
    assert not mx_sinks["optout"].with_token(token)
    assert not gw.events(start=start, proc="queue", event="tls_required_no", queue_id=qid)


@pytest.mark.parametrize("domain", ["final.test", "other.test"])
def test_final_delivery_by_lmtp_or_maildir_is_allowed(gw, lmtp, domain):
    """Into the mailbox store (RFC 8689 leaves it to the receiving site):
    delivered, and the LMTP server is not sent the parameter."""
    token, qid, start = _send(gw, f"user@{domain}")
    event = gw.wait_delivered(qid, start=start)
    assert event["requiretls"] == "yes"
    if domain == "final.test":
        assert any(token.encode() in data for _, _, data in lmtp.wait_for(1))
        assert not [c for c in lmtp.commands if "REQUIRETLS" in c.upper()], lmtp.commands
