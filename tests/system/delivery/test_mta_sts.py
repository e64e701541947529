"""MTA-STS, sender side (RFC 8461, TLS-8, issue 17): for an MX destination
without a tls_policy entry the gateway looks up "_mta-sts.<domain>" TXT
(dnsmasq), fetches https://mta-sts.<domain>/.well-known/mta-sts.txt from a
local HTTPS policy host (Python's http.server with ssl, certificates of a
throwaway CA that the gateway trusts through outbound_tls.mta_sts.ca_file)
and applies it:

- enforce with a matching MX delivers over STARTTLS with the MX's
  certificate verified; with no matching MX or a certificate not valid for
  the MX name it defers with 4.7.5 and sends nothing in clear;
- testing delivers anyway and logs the failure;
- an explicit tls_policy entry wins over the domain's policy;
- a policy is fetched once per TXT id; a new id fetches again; a cached
  policy stays in force while the policy host is unreachable.

Every MX sink listens on queue.mx_port on its own 127.0.0.x address; the
policy host on 127.0.0.1 (outbound_tls.mta_sts.https_port)."""

import socket
import threading
import time

import pytest

import certs
import mwsys
from peers import Dnsmasq, free_port_on, parse_dsn, send
from policy_host import WELL_KNOWN, PolicyHost, policy_text

MX = {"enf": "127.0.0.51", "enfmx": "127.0.0.52", "enfcert": "127.0.0.53", "testing": "127.0.0.54",
      "pinned": "127.0.0.55", "change": "127.0.0.56", "twomx": "127.0.0.57",
      "redirect": "127.0.0.58", "html": "127.0.0.59", "huge": "127.0.0.60", "badhost": "127.0.0.61",
      "refresh": "127.0.0.62", "burst": "127.0.0.63"}

# Policy hosts that break RFC 8461 3.3 (served by PolicyHost below); the
# certificate of the policy host does not name mta-sts.badhost.test.
BROKEN = {"redirect.test", "html.test", "huge.test", "badhost.test"}


def _policy(mode, *mx, max_age=86400):
    lines = ["version: STSv1", f"mode: {mode}"] + [f"mx: {m}" for m in mx] + [f"max_age: {max_age}"]
    return "\r\n".join(lines) + "\r\n"


# What the policy host serves, per domain; changed by the tests.
POLICIES = {
    "enf.test": _policy("enforce", "mx.enf.test"),
    "enfmx.test": _policy("enforce", "*.elsewhere.test"),
    "enfcert.test": _policy("enforce", "*.enfcert.test"),
    "testing.test": _policy("testing", "mx.testing.test"),
    "pinned.test": _policy("enforce", "nothing.pinned.test"),
    "change.test": _policy("enforce", "mx.change.test"),
    "twomx.test": _policy("enforce", "*.twomx.test"),
    "burst.test": _policy("enforce", "mx.burst.test"),
    "refresh.test": _policy("enforce", "mx.refresh.test", max_age=6),
    "redirect.test": _policy("enforce", "nothing.redirect.test"),
    "html.test": _policy("enforce", "nothing.html.test"),
    "huge.test": _policy("enforce", "nothing.huge.test") + "x" * (70 * 1024),
    "badhost.test": _policy("enforce", "nothing.badhost.test"),
}


def _txt(domain, policy_id):
    return f"--txt-record=_mta-sts.{domain},v=STSv1; id={policy_id};"


def _records(ids):
    recs = []
    for name, addr in MX.items():
        domain = f"{name}.test"
        recs += [f"--mx-host={domain},mx.{domain},10", f"--host-record=mx.{domain},{addr}",
                 f"--host-record=mta-sts.{domain},127.0.0.1", _txt(domain, ids.get(domain, "1"))]
    # twomx.test's first MX shows a certificate for another name (enfcert's sink)
    recs += ["--mx-host=twomx.test,mx0.twomx.test,5", f"--host-record=mx0.twomx.test,{MX['enfcert']}"]
    return recs


def _answer(domain, path):
    """The policy host's answer to a GET of https://mta-sts.<domain><path>."""
    if domain == "burst.test":
        time.sleep(1.0)   # slow: the burst's lookups arrive while it runs
    body = POLICIES.get(domain)
    if path != WELL_KNOWN or body is None:
        return None
    if domain == "redirect.test":
        return 301, {"Location": "https://mta-sts.enf.test" + WELL_KNOWN, "Content-Length": "0"}, b""
    if domain == "huge.test":   # huge: no length, the body's end is the close
        return 200, {"Content-Type": "text/plain"}, body.encode()
    return policy_text(body, "text/html" if domain == "html.test" else "text/plain")


@pytest.fixture(scope="module")
def mx_port(ports):
    """ports.get() checks 127.0.0.1 and ::1 only; the MX sinks listen on
    their own addresses, which another test run may be using."""
    return free_port_on(ports, MX.values())


@pytest.fixture(scope="module")
def dns(ports):
    d = Dnsmasq(ports.get(), _records({})).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def policy_host(ports, ca):
    names = [f"DNS:mta-sts.{name}.test" for name in MX if f"{name}.test" != "badhost.test"]
    cert, key = ca.issue("mta-sts.test", names)
    host = PolicyHost(ports.get(), cert, key, _answer)
    yield host
    host.stop()


@pytest.fixture(scope="module")
def mx_sinks(mx_port, ca):
    """STARTTLS everywhere; enfcert and testing show a certificate of the
    trusted CA for another name."""
    sinks = {}
    for name, addr in MX.items():
        cn = "wrong.test" if name in ("enfcert", "testing") else f"mx.{name}.test"
        cert, key = ca.issue(cn, [f"DNS:{cn}"])
        sinks[name] = mwsys.Sink(mx_port, host=addr, tls_context=certs.server_context(cert, key)).start()
    yield sinks
    for s in sinks.values():
        s.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, dns, mx_sinks, mx_port, policy_host, ca):
    return make_gateway(sink=sink, dns={"servers": [dns.servers]},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"},
                        outbound_tls={"level": "may", "ca_file": ca.cert,
                                      "mta_sts": {"enabled": True, "ca_file": ca.cert, "fetch_timeout_ms": 3000,
                                                  "https_port": policy_host.port}},
                        tls_policy={"pinned.test": "may"})


def _body(token):
    return f"From: sender@example.test\r\nSubject: {token}\r\nMessage-ID: <{token}@example.test>\r\n\r\n{token}\r\n"


def _send(gw, domain):
    token = mwsys.unique(domain.split(".")[0])
    start = gw.mark()
    qid = send(gw, "sender@example.test", [f"user@{domain}"], _body(token))
    return token, qid, start


def _restart_dns(dns, ids):
    dns.stop()
    dns.records = _records(ids)
    dns.start()


def test_enforce_with_matching_mx_delivers_verified(gw, mx_sinks, policy_host):
    token, qid, start = _send(gw, "enf.test")
    mx_sinks["enf"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "mta-sts", gw.events(start=start, proc="queue", event="mta_sts_policy")
    assert event["tls_verified"] == "yes"
    assert event["tls"].startswith("TLSv1.")
    gw.wait_event(proc="queue", event="mta_sts_policy", domain="enf.test", origin="fetched", mode="enforce",
                  id="1", start=start)


def test_enforce_without_matching_mx_defers_and_sends_nothing(gw, mx_sinks):
    token, qid, start = _send(gw, "enfmx.test")
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", start=start)
    assert "4.7.5" in event["reply"] and "MTA-STS" in event["reply"] and "mx list" in event["reply"]
    assert event["tls_policy"] == "mta-sts"
    gw.wait_event(proc="queue", event="mta_sts_mx_skipped", domain="enfmx.test", mx="mx.enfmx.test", start=start)
    assert mx_sinks["enfmx"].messages == []


def test_enforce_with_certificate_for_another_name_defers_never_in_clear(gw, mx_sinks):
    token, qid, start = _send(gw, "enfcert.test")
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", start=start)
    assert "4.7.5" in event["reply"] and "MTA-STS policy of enfcert.test (enforce)" in event["reply"]
    assert "certificate" in event["reply"]
    assert event["tls_verified"] == "no"
    # a retry (retry_min 1s) defers again: nothing ever went out in clear
    gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", attempt="2", start=start)
    assert not mx_sinks["enfcert"].with_token(token)


def test_enforce_skips_an_mx_with_a_bad_certificate_for_the_next(gw, mx_sinks):
    token, qid, start = _send(gw, "twomx.test")
    mx_sinks["twomx"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["mta"] == MX["twomx"]
    assert event["tls_verified"] == "yes"
    gw.wait_event(proc="queue", event="client_next_host", failed=MX["enfcert"], start=start)
    assert not mx_sinks["enfcert"].with_token(token)


@pytest.mark.parametrize("domain,why", [
    ("redirect.test", "HTTP status 301"),
    ("html.test", "Content-Type text/html, not text/plain"),
    ("huge.test", "body larger than the limit"),
    ("badhost.test", "SSL"),
])
def test_a_policy_host_that_breaks_the_rules_gives_no_policy(gw, mx_sinks, domain, why):
    """RFC 8461 3.3: no redirects, text/plain, a bounded size, a certificate
    valid for mta-sts.<domain>. Each policy here would refuse the MX; it is
    not taken, so the mail goes as under may."""
    token, qid, start = _send(gw, domain)
    mx_sinks[domain.split(".")[0]].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["tls_policy"] == "may"
    event = gw.wait_event(proc="queue", event="mta_sts_policy", domain=domain, start=start)
    assert event["origin"] == "none"
    assert why in event["why"], event["why"]


def test_testing_mode_delivers_and_logs_the_failure(gw, mx_sinks):
    token, qid, start = _send(gw, "testing.test")
    mx_sinks["testing"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "mta-sts"
    assert event["tls_verified"] == "no"
    failure = gw.wait_event(proc="queue", event="mta_sts_testing_failure", domain="testing.test", start=start)
    assert failure["why"] == "certificate not valid for the MX host"


def test_explicit_tls_policy_wins_over_mta_sts(gw, mx_sinks, policy_host):
    """pinned.test's policy would refuse its MX; its tls_policy entry (may) applies instead."""
    token, qid, start = _send(gw, "pinned.test")
    mx_sinks["pinned"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "config"
    assert policy_host.requests.get("pinned.test", 0) == 0, "no lookup for a domain with a tls_policy entry"


def test_plain_domain_without_policy_is_may(gw, sink):
    """example.test goes to its route: not MX, no MTA-STS, level may."""
    token = mwsys.unique("plain")
    start = gw.mark()
    qid = send(gw, "sender@example.test", ["user@example.test"], _body(token))
    sink.wait_token(token)
    assert gw.wait_delivered(qid, start=start)["tls_policy"] == "may"


def test_same_id_uses_the_cache_new_id_fetches_again(gw, dns, mx_sinks, policy_host):
    token, qid, start = _send(gw, "change.test")
    mx_sinks["change"].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["tls_policy"] == "mta-sts"
    fetched = policy_host.requests["change.test"]

    token, qid, start = _send(gw, "change.test")
    mx_sinks["change"].wait_token(token)
    gw.wait_delivered(qid, start=start)
    assert policy_host.requests["change.test"] == fetched, "same id, unexpired: from the cache"

    # A new id and a policy that no longer allows the MX: fetched again and enforced.
    POLICIES["change.test"] = _policy("enforce", "other.change.test")
    _restart_dns(dns, {"change.test": "2"})
    token, qid, start = _send(gw, "change.test")
    event = gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred", start=start)
    assert "mx list" in event["reply"]
    assert policy_host.requests["change.test"] == fetched + 1
    gw.wait_event(proc="queue", event="mta_sts_policy", domain="change.test", origin="fetched", id="2",
                  start=start)


def test_a_burst_of_mail_for_one_domain_fetches_its_policy_once(gw, mx_sinks, policy_host):
    sent = [_send(gw, "burst.test") for _ in range(5)]
    for token, qid, start in sent:
        mx_sinks["burst"].wait_token(token)
        assert gw.wait_delivered(qid, start=start)["tls_policy"] == "mta-sts"
    assert policy_host.requests["burst.test"] == 1


def test_policy_past_half_its_max_age_is_refreshed_in_the_background(gw, mx_sinks, policy_host):
    """RFC 8461 5.1: max_age 6 s; a delivery 3+ s after the fetch uses the
    cached policy at once and fetches it again behind it."""
    token, qid, start = _send(gw, "refresh.test")
    mx_sinks["refresh"].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["tls_policy"] == "mta-sts"
    fetched_at = time.monotonic()
    assert policy_host.requests["refresh.test"] == 1
    time.sleep(max(0.0, 3.2 - (time.monotonic() - fetched_at)))
    token, qid, start = _send(gw, "refresh.test")
    mx_sinks["refresh"].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["tls_policy"] == "mta-sts"
    gw.wait_event(proc="queue", event="mta_sts_refresh", domain="refresh.test", result="fetched", start=start)
    assert policy_host.requests["refresh.test"] == 2


def test_enforce_failure_bounces_with_the_reason_when_it_expires(make_gateway, sink, dns, mx_sinks, mx_port,
                                                                 policy_host, ca):
    """A message refused by enforce waits, then (queue.lifetime) bounces to
    its sender naming the policy; it was never sent."""
    gw2 = make_gateway(sink=sink, dns={"servers": [dns.servers]},
                       queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s", "lifetime": "3s"},
                       outbound_tls={"level": "may", "ca_file": ca.cert,
                                     "mta_sts": {"enabled": True, "ca_file": ca.cert,
                                                 "https_port": policy_host.port}})
    token, qid, start = _send(gw2, "enfcert.test")
    dsn = sink.wait_for(lambda m: m.mail_from in ("", "<>") and token.encode() in m.data)[0]
    msg, rcpts, per_msg = parse_dsn(dsn)
    assert rcpts[0]["Final-Recipient"] == "rfc822; user@enfcert.test"
    assert rcpts[0]["Action"] == "failed"
    assert "MTA-STS policy of enfcert.test (enforce)" in rcpts[0]["Diagnostic-Code"]
    assert not mx_sinks["enfcert"].with_token(token)


class StallingHost:
    """Accepts TCP connections on 127.0.0.1:port and never answers (a
    policy host that hangs in the TLS handshake)."""

    def __init__(self, port):
        self.port = port
        self.sock = socket.create_server(("127.0.0.1", port))
        self.accepted = threading.Event()
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_stop_during_a_policy_fetch_is_prompt_and_clean(make_gateway, sink, dns, mx_port, ports, ca):
    """SIGTERM while a fetch hangs (fetch_timeout_ms 60 s): the fetch is cut
    short, the delivery is deferred, and every process exits at once (0,
    and clean under the ASan build)."""
    stall = StallingHost(ports.get())
    try:
        gw2 = make_gateway(sink=sink, shutdown_grace="0s", dns={"servers": [dns.servers]},
                           queue={"mx_port": mx_port},
                           outbound_tls={"mta_sts": {"enabled": True, "ca_file": ca.cert,
                                                     "fetch_timeout_ms": 60000, "https_port": stall.port}})
        token, qid, start = _send(gw2, "enf.test")
        assert stall.accepted.wait(mwsys.TIMEOUT), "the gateway never fetched the policy"
        began = time.monotonic()
        gw2.stop(timeout=15)
        assert time.monotonic() - began < 10
        assert gw2.problems == []
        deferred = gw2.events(start=start, proc="queue", event="delivery", queue_id=qid, status="deferred")
        assert deferred and "4.3.2 the queue is stopping" in deferred[0]["reply"], deferred
    finally:
        stall.stop()


def test_cached_policy_survives_an_unreachable_policy_host(gw, dns, mx_sinks, policy_host):
    """enf.test's policy was fetched (first test); with a new id the gateway
    tries again, the host is gone, and the cached enforce policy stays in force."""
    token, qid, start = _send(gw, "enf.test")
    mx_sinks["enf"].wait_token(token)
    gw.wait_delivered(qid, start=start)
    policy_host.stop()
    _restart_dns(dns, {"change.test": "2", "enf.test": "9"})
    token, qid, start = _send(gw, "enf.test")
    mx_sinks["enf"].wait_token(token)
    event = gw.wait_delivered(qid, start=start)
    assert event["tls_policy"] == "mta-sts"
    assert event["tls_verified"] == "yes"
    policy = gw.wait_event(proc="queue", event="mta_sts_policy", domain="enf.test", start=start)
    assert policy["origin"] == "cache"
    assert policy["mode"] == "enforce"
    assert "fetch of https://mta-sts.enf.test/" in policy["why"]
