"""DNS failure and DNS garbage on the outbound path (attack catalogue case
154; TOP-2 MX routing, TOP-4 static routes without DNS). What
test_mx_routing.py leaves to this file:

- SERVFAIL for the MX query or for an MX host's address, and an answer
  that does not parse: the mail waits (451 4.4.3), never bounces, never
  goes to the domain's own address as if it had no MX, and is delivered
  once DNS heals;
- a resolver whose port is closed, and one that never answers: MX mail
  waits and is delivered once DNS is back, while mail for local.test
  (a static route to an address) flows at once, not held up by the
  lookups' timeouts;
- CNAME loops (the domain, an MX host), a thousand MX records (the answer
  only fits over TCP; the lowest preference is used wherever it comes),
  MX targets that are IP addresses ("127.0.0.51", "[127.0.0.51]");
- MX hosts on loopback (by name, localhost, IPv4-mapped IPv6) with the
  default configuration, and an MX host that is the gateway's own
  listener: a loop (RFC 5321 5.1), 554 5.4.6, no connection made.

The resolver is dns_responder.DnsResponder on loopback. The module's
gateway has queue.mx_allow_loopback on (base_config's test default) so
that MX sinks on 127.0.0.x can get mail; the loopback tests start one
with the default, off. Every check looks at what the sender gets (a DSN
with its status, or the message still queued with its 4xx) and at the
sinks that must stay empty."""

import json
import subprocess

import pytest

import mwsys
from dns_responder import DnsResponder, SilentResolver
from peers import PeerSink, free_port_on, parse_dsn, send


LIVE, APEX, BACKUP, BEST = "127.0.0.51", "127.0.0.52", "127.0.0.53", "127.0.0.54"
DEAD = "127.0.0.59"   # nothing listens there: a connection is refused at once
SINK_ADDRESSES = (LIVE, APEX, BACKUP, BEST)


@pytest.fixture(scope="module")
def mx_port(ports):
    # 127.0.0.1 too: the loopback tests put a trap there.
    return free_port_on(ports, SINK_ADDRESSES + ("127.0.0.1",))


@pytest.fixture(scope="module")
def dns(ports):
    d = DnsResponder(ports.get()).start()
    for domain in ("ok.test", "servfail.test", "hostfail.test"):
        d.mx(domain, 10, f"mx.{domain}")
        d.a(f"mx.{domain}", LIVE)
    d.fail("servfail.test")
    d.fail("mx.hostfail.test")
    d.garble("garbage.test")
    d.a("garbage.test", APEX)            # the address an "implicit MX" would pick
    d.cname("loop.test", "loop2.test")
    d.cname("loop2.test", "loop.test")
    d.mx("mxloop.test", 10, "mx.mxloop.test")
    d.mx("mxloop.test", 20, "backup.mxloop.test")
    d.cname("mx.mxloop.test", "alias.mxloop.test")
    d.cname("alias.mxloop.test", "mx.mxloop.test")
    d.a("backup.mxloop.test", BACKUP)
    for i in range(999):                 # refused at once, were they ever tried
        d.mx("big.test", 10 + i, f"mx{i:03d}.big.test")
        d.a(f"mx{i:03d}.big.test", DEAD)
    d.mx("big.test", 1, "best.big.test")  # the lowest preference comes last
    d.a("best.big.test", BEST)
    # A resolver that answers numeric names (a wildcard, DNS garbage)
    d.mx("literal.test", 10, LIVE)
    d.mx("bracket.test", 10, f"[{LIVE}]")
    d.mx("literal2.test", 10, LIVE)
    d.mx("literal2.test", 20, "mx.literal2.test")
    d.a("mx.literal2.test", BACKUP)
    d.a(LIVE, LIVE)
    d.a(f"[{LIVE}]", LIVE)
    # Loopback MX hosts
    d.mx("lo.test", 10, "mx.lo.test")
    d.a("mx.lo.test", LIVE)
    d.mx("localhost.test", 10, "localhost")
    d.a("localhost", "127.0.0.1")
    d.a("localhost", "::1")
    d.mx("mapped.test", 10, "mx.mapped.test")
    d.a("mx.mapped.test", f"::ffff:{LIVE}")
    # The gateway's own listener (test_an_mx_host_that_is_our_listener_is_a_loop)
    d.mx("self.test", 10, "gw.self.test")
    d.mx("self.test", 20, "backup.self.test")
    d.a("gw.self.test", "127.0.0.1")
    d.a("backup.self.test", LIVE)
    d.mx("selfworse.test", 10, "dead.self.test")
    d.mx("selfworse.test", 20, "gw.self.test")
    d.a("dead.self.test", DEAD)
    yield d
    d.stop()


@pytest.fixture(scope="module")
def mx_sinks(mx_port):
    sinks = {host: PeerSink(mx_port, host=host).start() for host in SINK_ADDRESSES + ("127.0.0.1",)}
    yield sinks
    for s in sinks.values():
        s.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, dns, mx_sinks, mx_port):
    """example.test goes to the module's sink (bounces to
    sender@example.test arrive there); everything else by MX."""
    return make_gateway(sink=sink, dns={"servers": [dns.servers]},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"})


@pytest.fixture(scope="module")
def strict_gw(make_gateway, sink, dns, mx_sinks, mx_port):
    """The default: MX hosts on loopback are a loop."""
    return make_gateway(sink=sink, dns={"servers": [dns.servers]},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s",
                               "mx_allow_loopback": False})


def _body(token):
    return f"From: sender@example.test\r\nSubject: {token}\r\nMessage-ID: <{token}@example.test>\r\n\r\n{token}\r\n"


def _send(gw, rcpt):
    token = mwsys.unique(rcpt.split("@")[1].split(".")[0])
    return send(gw, "sender@example.test", [rcpt], _body(token)), token


def _bounced(gw, sink, qid, token, rcpt, status):
    """The DSN the sender got for rcpt: failed with status; the message
    left the queue. Its Diagnostic-Code."""
    dsn = sink.wait_for(lambda m: m.mail_from in ("", "<>") and token.encode() in m.data)[0]
    assert dsn.rcpt_tos == ["sender@example.test"]
    _, rcpts, _ = parse_dsn(dsn)
    assert [(r["Final-Recipient"], r["Action"], r["Status"]) for r in rcpts] == \
        [(f"rfc822; {rcpt}", "failed", status)]
    gw.wait_event(proc="queue", event="removed", queue_id=qid)
    return rcpts[0]["Diagnostic-Code"]


def _deferred(gw, qid, start, times=1):
    """The queue's deferral events of qid since start, at least times of
    them (each one a try that ended in a 4xx); the message is still queued."""
    mwsys.wait_until(lambda: len(gw.events(start, proc="queue", event="delivery", queue_id=qid,
                                           status="deferred")) >= times,
                     what=f"{times} deferrals of {qid}")
    events = gw.events(start, proc="queue", event="delivery", queue_id=qid, status="deferred")
    assert all(e["reply"].startswith("451 4.4.3") for e in events), events
    assert not gw.events(start, proc="queue", event="delivery", queue_id=qid, status="failed")
    return events


def _queued(gw, qid):
    """qid's entry in `mailwarden queue list --json` (it must be there)."""
    p = subprocess.run([gw.binary, "queue", "-c", gw.config_path, "list", "--json"],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    entries = {e["id"]: e for e in json.loads(p.stdout)}
    assert qid in entries, f"{qid} not in the queue: {sorted(entries)}"
    return entries[qid]


def _nothing_for(sinks, token):
    got = {host: len(s.with_token(token)) for host, s in sinks.items() if s.with_token(token)}
    assert got == {}, f"sinks that got the message: {got}"


# --- SERVFAIL and garbage: the mail waits, then goes out -----------------


@pytest.mark.parametrize("domain,reply", [
    ("servfail.test", "451 4.4.3 MX lookup for servfail.test failed"),
    ("hostfail.test", "451 4.4.3 address lookup of the MX hosts of hostfail.test failed"),
])
def test_servfail_defers_and_the_mail_goes_out_when_dns_heals(gw, dns, mx_sinks, domain, reply):
    """SERVFAIL (RCODE 2) for the MX query, or for the MX host's A/AAAA
    query: a temporary failure at every try, never a bounce; the message
    stays queued with that reply until the name resolves again."""
    failing = domain if domain == "servfail.test" else f"mx.{domain}"
    start = gw.mark()
    qid, token = _send(gw, f"user@{domain}")
    events = _deferred(gw, qid, start, times=2)
    assert events[0]["reply"].startswith(reply), events[0]
    entry = _queued(gw, qid)
    assert entry["recipients"][0]["status"] == "pending"
    assert entry["last_error"].startswith("451 4.4.3")
    assert dns.asked(failing) >= 2
    _nothing_for(mx_sinks, token)
    dns.heal(failing)
    try:
        mx_sinks[LIVE].wait_token(token, timeout=15)
        assert gw.wait_delivered(qid, start=start)["mta"] == LIVE
    finally:
        dns.fail(failing)


def test_an_mx_answer_that_does_not_parse_defers_and_never_means_no_mx(gw, dns, mx_sinks):
    """An MX answer whose record cannot be parsed is DNS garbage: a
    temporary failure. Taken as "no MX records", the mail would go to the
    domain's own address (RFC 5321 5.1), here a sink that must stay empty
    until the answer is sane again (then it has no MX: the address is
    right)."""
    start = gw.mark()
    qid, token = _send(gw, "user@garbage.test")
    _deferred(gw, qid, start, times=2)
    assert _queued(gw, qid)["recipients"][0]["status"] == "pending"
    _nothing_for(mx_sinks, token)
    dns.heal("garbage.test")
    try:
        mx_sinks[APEX].wait_token(token, timeout=15)
        gw.wait_delivered(qid, start=start)
    finally:
        dns.garble("garbage.test")


# --- the resolver down or silent (TOP-4) -----------------------------------


@pytest.fixture
def local_sink(make_sink_fn):
    return make_sink_fn()


def _outage_gateway(make_gateway_fn, sink, local_sink, dns_port, mx_port, timeout="2s"):
    return make_gateway_fn(sink=sink, dns={"servers": [f"127.0.0.1:{dns_port}"], "timeout": timeout},
                        local_domains=["example.test", "local.test"],
                        routes={"example.test": sink.url, "local.test": local_sink.url},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"})


def test_resolver_down_mx_mail_waits_local_mail_flows_and_both_arrive(make_gateway_fn, sink, local_sink, ports,
                                                                      mx_sinks, mx_port):
    """The resolver's port is closed: mail for local.test (a static route
    to an address) is delivered at once; MX mail is deferred with 451
    4.4.3, stays in `queue list`, and goes out once a resolver answers."""
    dns_port = ports.get()
    gw2 = _outage_gateway(make_gateway_fn, sink, local_sink, dns_port, mx_port)
    start = gw2.mark()
    qid, token = _send(gw2, "user@ok.test")
    local_qid, local_token = _send(gw2, "user@local.test")
    local_sink.wait_token(local_token)
    gw2.wait_delivered(local_qid)
    events = _deferred(gw2, qid, start, times=2)
    assert events[0]["reply"].startswith("451 4.4.3 MX lookup for ok.test failed"), events[0]
    entry = _queued(gw2, qid)
    assert entry["recipients"] == [{"address": "user@ok.test", "status": "pending",
                                    "last_reply": entry["last_error"]}]
    _nothing_for(mx_sinks, token)
    back = DnsResponder(dns_port).start()
    try:
        back.mx("ok.test", 10, "mx.ok.test")
        back.a("mx.ok.test", LIVE)
        mx_sinks[LIVE].wait_token(token, timeout=15)
        assert gw2.wait_delivered(qid, start=start)["mta"] == LIVE
    finally:
        back.stop()


def test_a_silent_resolver_holds_up_no_static_route(make_gateway_fn, sink, local_sink, ports, mx_sinks, mx_port):
    """The resolver takes queries and never answers: each MX lookup runs
    into its timeouts (2 s, then 4 s). Mail for local.test, sent after the
    MX message, is delivered before that lookup has even given up; the
    MX message is then deferred, not bounced."""
    silent = SilentResolver(ports.get()).start()
    try:
        gw2 = _outage_gateway(make_gateway_fn, sink, local_sink, silent.port, mx_port)
        start = gw2.mark()
        qid, token = _send(gw2, "user@ok.test")
        local_qid, local_token = _send(gw2, "user@local.test")
        local_sink.wait_token(local_token)
        gw2.wait_delivered(local_qid, start=start)
        assert not gw2.events(start, proc="queue", event="delivery", queue_id=qid), \
            "the MX lookup ended before the static route's delivery"
        event = gw2.wait_event(start=start, proc="queue", event="delivery", queue_id=qid, timeout=30)
        assert event["status"] == "deferred" and event["reply"].startswith("451 4.4.3"), event
        assert _queued(gw2, qid)["recipients"][0]["status"] == "pending"
        _nothing_for(mx_sinks, token)
    finally:
        silent.stop()


# --- CNAME loops, 1 000 MX records, IP literals -----------------------------


def test_a_cname_loop_at_the_domain_bounces_as_unroutable(gw, sink, dns, mx_sinks):
    """loop.test is a CNAME of loop2.test and back: the answers carry the
    chain and no record (a resolver such as BIND returns that). The domain
    has no usable host: a bounce with 5.4.4 (as Postfix's "name server
    loop"), after a bounded number of queries, nothing sent anywhere."""
    qid, token = _send(gw, "user@loop.test")
    diag = _bounced(gw, sink, qid, token, "user@loop.test", "5.4.4")
    assert "loop.test" in diag
    assert dns.asked("loop.test") <= 10
    _nothing_for(mx_sinks, token)


def test_a_cname_loop_at_an_mx_host_falls_back_to_the_next_mx(gw, dns, mx_sinks):
    """mx.mxloop.test (preference 10) loops through CNAMEs; the backup at
    20 gets the mail."""
    start = gw.mark()
    qid, token = _send(gw, "user@mxloop.test")
    mx_sinks[BACKUP].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["mta"] == BACKUP
    assert dns.asked("mx.mxloop.test", "A") >= 1


def test_a_thousand_mx_records_come_over_tcp_and_the_best_one_gets_the_mail(gw, dns, mx_sinks):
    """1 000 MX records do not fit in a UDP answer (512 bytes): it comes
    truncated and the query is repeated over TCP. The lowest preference,
    last in the answer, is the host used; the queue keeps at most 64
    records and resolves at most 10 hosts, and stays the same process
    with a bounded footprint."""
    queue_pid = gw.pid("queue")
    before = int(mwsys.proc_status(queue_pid)["VmRSS"].split()[0])
    start = gw.mark()
    qid, token = _send(gw, "user@big.test")
    mx_sinks[BEST].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["mta"] == BEST
    assert dns.asked("big.test", "MX", "udp") >= 1
    assert dns.asked("big.test", "MX", "tcp") >= 1
    asked_hosts = sum(dns.asked(f"mx{i:03d}.big.test") for i in range(999))
    assert asked_hosts <= 2 * 9, asked_hosts   # A and AAAA of the 9 next-best at most
    assert gw.pid("queue") == queue_pid
    after = int(mwsys.proc_status(queue_pid)["VmRSS"].split()[0])
    assert after - before < 16 * 1024, f"queue RSS grew from {before} to {after} kB"


@pytest.mark.parametrize("domain", ["literal.test", "bracket.test"])
def test_an_mx_target_that_is_an_ip_address_is_not_used(gw, sink, dns, mx_sinks, domain):
    """An MX record's target is a host name (RFC 1035 3.3.9); one that is
    an address, bare or in brackets, is skipped even when the resolver
    answers for it, as Postfix and Exim do: DNS garbage cannot choose an
    address. With no other MX: a bounce with 5.4.4."""
    start = gw.mark()
    qid, token = _send(gw, f"user@{domain}")
    diag = _bounced(gw, sink, qid, token, f"user@{domain}", "5.4.4")
    assert "name IP addresses" in diag
    gw.wait_event(start=start, proc="queue", event="mx_ip_literal_skipped", domain=domain)
    _nothing_for(mx_sinks, token)


def test_an_ip_address_mx_beside_a_host_name_is_skipped(gw, mx_sinks):
    start = gw.mark()
    qid, token = _send(gw, "user@literal2.test")
    mx_sinks[BACKUP].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["mta"] == BACKUP
    assert not mx_sinks[LIVE].with_token(token)


# --- MX hosts on loopback and the gateway itself (RFC 5321 5.1) ------------


@pytest.mark.parametrize("domain,mx", [("lo.test", "mx.lo.test"), ("localhost.test", "localhost"),
                                       ("mapped.test", "mx.mapped.test")])
def test_an_mx_host_on_loopback_is_a_loop_by_default(strict_gw, sink, mx_sinks, domain, mx):
    """With queue.mx_allow_loopback off (the default), an MX host whose
    address is loopback (127.0.0.51; localhost's 127.0.0.1 and ::1;
    ::ffff:127.0.0.51) is the gateway's own machine: a loop, bounced with
    554 5.4.6 without a connection; the sinks listening there get nothing."""
    start = strict_gw.mark()
    qid, token = _send(strict_gw, f"user@{domain}")
    diag = _bounced(strict_gw, sink, qid, token, f"user@{domain}", "5.4.6")
    assert "loops back to myself" in diag
    event = strict_gw.wait_event(start=start, proc="queue", event="mx_self_dropped", queue_id=qid)
    assert event["mx"] == mx and event["why"] == "loopback address"
    _nothing_for(mx_sinks, token)
    assert not strict_gw.events(start, proc="queue", event="client_next_host")


def test_the_allowance_delivers_to_a_loopback_mx_host(gw, mx_sinks):
    """The same MX host with queue.mx_allow_loopback on (test setups)."""
    start = gw.mark()
    qid, token = _send(gw, "user@lo.test")
    mx_sinks[LIVE].wait_token(token)
    assert gw.wait_delivered(qid, start=start)["mta"] == LIVE


@pytest.fixture(scope="module")
def self_gw(make_gateway, ports, sink, dns):
    """A gateway whose queue.mx_port is its own listener's port, loopback
    allowed: an MX host at 127.0.0.1 is this gateway itself. A sink on
    LIVE at that port stands for the backup MX."""
    port = free_port_on(ports, ("127.0.0.1", LIVE))
    backup = PeerSink(port, host=LIVE).start()
    gw = make_gateway(sink=sink, dns={"servers": [dns.servers]},
                      listeners=[{"name": "mta", "address": "127.0.0.1", "port": port}],
                      queue={"mx_port": port, "retry_min": "1s", "retry_max": "1s"})
    gw.backup = backup
    yield gw
    backup.stop()


def test_an_mx_host_that_is_our_listener_is_a_loop(self_gw, sink):
    """gw.self.test (preference 10) is 127.0.0.1 on the port the gateway
    listens on: even with loopback allowed, that host and every host of
    its preference or a worse one are dropped (RFC 5321 5.1), so the
    backup at 20 gets nothing either: 554 5.4.6, and the gateway never
    connects to itself."""
    start = self_gw.mark()
    qid, token = _send(self_gw, "user@self.test")
    _bounced(self_gw, sink, qid, token, "user@self.test", "5.4.6")
    event = self_gw.wait_event(start=start, proc="queue", event="mx_self_dropped", queue_id=qid)
    assert event["why"] == "address of a listener of this gateway" and event["address"] == "127.0.0.1"
    assert not self_gw.backup.with_token(token)
    assert not self_gw.events(start, proc="smtpd", event="connect", client="127.0.0.1")


def test_better_mx_hosts_than_ourselves_are_still_tried(self_gw):
    """selfworse.test: a dead host at 10, ourselves at 20. The dead host is
    tried and the mail waits (451); the gateway does not fall back to
    itself."""
    start = self_gw.mark()
    qid, token = _send(self_gw, "user@selfworse.test")
    event = self_gw.wait_event(start=start, proc="queue", event="delivery", queue_id=qid)
    assert event["status"] == "deferred" and event["reply"].startswith("4"), event
    self_gw.wait_event(start=start, proc="queue", event="mx_self_dropped", queue_id=qid)
    assert not self_gw.events(start, proc="smtpd", event="connect", client="127.0.0.1")
    subprocess.run([self_gw.binary, "queue", "-c", self_gw.config_path, "delete", qid],
                   capture_output=True, timeout=10, check=True)
