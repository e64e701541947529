"""Attack catalogue, section 6: the outbound client and the queue
against hostile next hops (cases 104-108, TLS-7, TLS-8, Q-1, SEC-4).
Every case also checks U1-U4 (attack_env)."""

import json
import os
import signal
import ssl
import subprocess

import pytest

import attack_env as env
import certs
import mwsys

EHLO_TLS = "250-hostile.test\r\n250-PIPELINING\r\n250 STARTTLS"

# case id: the hostile next hop's script (fake-mail-server Negotiation cases)
NEGOTIATION = {
    "104-O1-no-starttls": {"EHLO": "250-hostile.test\r\n250 PIPELINING"},
    "104-O2-starttls-502": {"EHLO": EHLO_TLS, "STARTTLS": "502 5.5.1 Command not implemented"},
    "104-O3-starttls-454": {"EHLO": EHLO_TLS, "STARTTLS": "454 4.7.0 TLS not available due to temporary reason"},
    "104-O4-starttls-354": {"EHLO": EHLO_TLS, "STARTTLS": "354 do something else"},
    "104-D1-no-esmtp": {"EHLO": "500 5.5.1 what is EHLO", "HELO": "250 hostile.test"},
}


@pytest.fixture(scope="module")
def hops(ports):
    servers = {case: env.HostileNextHop(ports.get(), script) for case, script in NEGOTIATION.items()}
    yield servers
    for s in servers.values():
        s.stop()


def _domain(case):
    return case.split("-")[1].lower() + ".hostile.test"


def _tls_sink(make_sink, cert, key, maximum_version=None):
    sink = mwsys.Sink(mwsys.PORTS.get(), tls_context=certs.server_context(cert, key, maximum_version))
    make_sink.sinks.append(sink)
    return sink.start()


@pytest.fixture(scope="module")
def bad_tls(make_sink, workdir, ca):
    """case id: (TLS next hop, policy) for case 105."""
    other_ca = certs.CA(os.path.join(workdir, "other-ca"), name="unknown CA")
    good = ["DNS:peer.test", "IP:127.0.0.1"]
    return {
        "105-self-signed": (_tls_sink(make_sink, *certs.make_cert(os.path.join(workdir, "self"), "peer.test", good)),
                            "verify"),
        "105-wrong-name": (_tls_sink(make_sink, *ca.issue("wrong.test", ["DNS:wrong.test"])), "verify"),
        "105-unknown-ca": (_tls_sink(make_sink, *other_ca.issue("peer.test", good)), "verify"),
        "105-version-below-minimum": (_tls_sink(make_sink, *ca.issue("old.test", good),
                                                maximum_version=ssl.TLSVersion.TLSv1_2), "encrypt TLSv1.3"),
    }


@pytest.fixture(scope="module")
def gw(make_gateway, ports, internal, outbound, hops, bad_tls, ca):
    cfg = env.gateway_config(ports, internal, outbound)
    for case, server in hops.items():
        cfg["routes"][_domain(case)] = server.url
    cfg["tls_policy"] = {_domain(case): "encrypt" for case in hops}
    for case, (sink, policy) in bad_tls.items():
        cfg["routes"][f"{case}.test"] = sink.url
        cfg["tls_policy"][f"{case}.test"] = policy
    cfg["outbound_tls"] = {"level": "may", "min_version": "TLSv1.2", "ca_file": ca.cert}
    cfg["queue"] = {"retry_min": "1h", "retry_max": "1h"}
    return make_gateway(**cfg)


@pytest.mark.parametrize("case", NEGOTIATION.keys(), ids=NEGOTIATION.keys())
def test_case_104_starttls_failure_under_mandatory_tls(gw, hops, case):
    """Deferred (4.7.x, retried later), and MAIL is never sent in clear."""
    token = mwsys.unique("mandatory")
    with env.Attack(gw) as a:
        c = a.client(source=env.TRUSTED)
        c.ehlo("a.test")
        r = c.transaction("a@local.test", [f"x@{_domain(case)}"], f"Subject: {token}\r\n\r\nx\r\n".encode())
        assert r.code == 250, r
        qid = mwsys.queue_id(r)
        gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid, start=a.start)
        verbs = hops[case].verbs()
        assert verbs and "MAIL" not in verbs and "AUTH" not in verbs, verbs
        assert gw.events(start=a.start, proc="queue", event="delivery", queue_id=qid, status="sent") == []


@pytest.mark.parametrize("case", ["105-self-signed", "105-wrong-name", "105-unknown-ca",
                                  "105-version-below-minimum"])
def test_case_105_outbound_certificate_and_version_checks(gw, bad_tls, case):
    """Deferred, never delivered with a bad certificate or below the
    minimum version; the reason is logged. (Expired certificates and DANE
    are not covered here.)"""
    sink, _ = bad_tls[case]
    token = mwsys.unique("badtls")
    with env.Attack(gw) as a:
        c = a.client(source=env.TRUSTED)
        c.ehlo("a.test")
        r = c.transaction("a@local.test", [f"x@{case}.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
        assert r.code == 250, r
        qid = mwsys.queue_id(r)
        event = gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid, start=a.start)
        assert sink.with_token(token) == [], f"delivered over bad TLS: {event}"
        assert gw.events(start=a.start, proc="queue", event="delivery", queue_id=qid, status="sent") == []


def _queue_list(gw):
    p = subprocess.run([gw.binary, "queue", "-c", gw.config_path, "list", "--json"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return {e["id"]: e for e in json.loads(p.stdout)}


def test_case_108_five_megabyte_header_line_survives_kill_and_restart(make_gateway_fn, make_sink_fn, ports):
    """A message with one 5 MB header line is accepted (or refused with
    552/554 at DATA); kill -9 of the whole gateway and a restart: the
    queue listing shows the identical envelope, and the bytes delivered
    afterwards equal the bytes accepted (after our Received header)."""
    # The internal next hop is down at first; later a line-level server
    # (aiosmtpd refuses lines over 1000 octets) takes the message.
    down_port = ports.get()
    down = type("Down", (), {"url": f"smtp://127.0.0.1:{down_port}"})()
    outbound = make_sink_fn(start=False)
    cfg = env.gateway_config(ports, down, outbound)
    cfg["limits"] = {"message_size": "8M", "errors": 20}
    cfg["queue"] = {"retry_min": "1h", "retry_max": "1h"}
    gw = make_gateway_fn(**cfg)
    token = mwsys.unique("bigheader")
    body = (f"Subject: {token}\r\nX-Long: " + "h" * (5 * 1024 * 1024) + "\r\n\r\nbody\r\n").encode()
    with env.Attack(gw) as a:
        c = a.client()
        c.ehlo("a.test")
        r = c.transaction("a@attacker.test", ["u@local.test"], body)
        if r.code != 250:
            env.assert_refused(r, "5 MB header line", codes=(552, 554))
            return
        qid = mwsys.queue_id(r)
        gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid, start=a.start)
        before = _queue_list(gw)[qid]
    for which in ("queue", "smtpd", "master"):
        try:
            gw.kill(signal.SIGKILL, which)
        except Exception:
            pass
    gw.wait_exit()
    gw.restart()
    after = _queue_list(gw)[qid]
    for key in ("sender", "recipients", "size"):
        if key in before:
            assert after.get(key) == before[key], (key, before, after)
    hop = env.HostileNextHop(down_port, {})
    try:
        subprocess.run([gw.binary, "queue", "-c", gw.config_path, "flush", qid], capture_output=True, timeout=10)
        gw.wait_event(proc="queue", event="delivery", queue_id=qid, status="sent", timeout=30)
        [msg] = hop.messages
    finally:
        hop.stop()
    after_received = mwsys.SinkMessage(None, [], msg, [], None).after_received()
    assert after_received == body, "delivered bytes differ from the accepted ones"
    env.assert_live(gw)
