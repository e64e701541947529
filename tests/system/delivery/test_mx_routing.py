"""MX routing (TOP-2, RFC 5321 5.1, RFC 7505) against dnsmasq on loopback:
the lowest preference wins, a dead primary falls back to the secondary, a
domain without MX is delivered to its address, a null MX or a domain that
does not exist bounces, IPv6 MX hosts work, and with DNS down static
routes keep working while MX-routed mail waits for DNS to return (TOP-4).

Every MX host listens on the same port (queue.mx_port) on its own
127.0.0.x address; nothing leaves loopback."""

import os

import pytest

import mwsys
from peers import Dnsmasq, PeerSink, free_port_on, parse_dsn, send


MX_ADDRESSES = ("127.0.0.41", "127.0.0.42", "127.0.0.43", "127.0.0.44", "127.0.0.45")


@pytest.fixture(scope="module")
def mx_port(ports):
    """ports.get() checks 127.0.0.1 and ::1 only; the MX sinks listen on
    their own addresses, which another test run may be using."""
    return free_port_on(ports, MX_ADDRESSES)


@pytest.fixture(scope="module")
def dns(ports):
    d = Dnsmasq(ports.get(), [
        "--mx-host=prio.test,mx2.prio.test,20", "--mx-host=prio.test,mx1.prio.test,10",
        "--host-record=mx1.prio.test,127.0.0.41", "--host-record=mx2.prio.test,127.0.0.42",
        "--mx-host=deadp.test,dead.deadp.test,10", "--mx-host=deadp.test,live.deadp.test,20",
        "--host-record=dead.deadp.test,127.0.0.43", "--host-record=live.deadp.test,127.0.0.44",
        "--host-record=amx.test,127.0.0.45",
        "--mx-host=nullmx.test,.,0",
        "--mx-host=v6.test,mx.v6.test,10", "--host-record=mx.v6.test,::1",
        "--host-record=relay.named.test,127.0.0.44",
    ]).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def mx_sinks(mx_port):
    sinks = {host: PeerSink(mx_port, host=host).start()
             for host in ("127.0.0.41", "127.0.0.42", "127.0.0.44", "127.0.0.45")}
    yield sinks
    for s in sinks.values():
        s.stop()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, dns, mx_sinks, mx_port):
    """example.test goes to the module's sink (where bounces to
    sender@example.test arrive); everything else by MX."""
    return make_gateway(sink=sink, dns={"servers": [dns.servers]},
                        queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"})


def _body(token):
    return f"From: sender@example.test\r\nSubject: {token}\r\nMessage-ID: <{token}@example.test>\r\n\r\n{token}\r\n"


def test_lowest_preference_mx_gets_the_mail(gw, mx_sinks):
    token = mwsys.unique("prio")
    qid = send(gw, "sender@example.test", ["user@prio.test"], _body(token))
    mx_sinks["127.0.0.41"].wait_token(token)
    event = gw.wait_delivered(qid)
    assert event["nexthop"] == "mx:prio.test"
    assert event["mta"] == "127.0.0.41"
    assert not mx_sinks["127.0.0.42"].with_token(token)


def test_dead_primary_mx_falls_back_to_the_next(gw, mx_sinks):
    token = mwsys.unique("deadp")
    qid = send(gw, "sender@example.test", ["user@deadp.test"], _body(token))
    mx_sinks["127.0.0.44"].wait_token(token)
    assert gw.wait_delivered(qid)["mta"] == "127.0.0.44"
    gw.wait_event(proc="queue", event="client_next_host", failed="127.0.0.43")


def test_domain_without_mx_is_delivered_to_its_address(gw, mx_sinks):
    token = mwsys.unique("amx")
    qid = send(gw, "sender@example.test", ["user@amx.test"], _body(token))
    mx_sinks["127.0.0.45"].wait_token(token)
    assert gw.wait_delivered(qid)["mta"] == "127.0.0.45"


@pytest.mark.parametrize("domain,status", [("nullmx.test", "5.1.10"), ("nxdomain.test", "5.1.2")])
def test_undeliverable_domain_bounces_to_the_sender(gw, sink, domain, status):
    token = mwsys.unique("bounce")
    qid = send(gw, "sender@example.test", [f"user@{domain}"], _body(token))
    dsn = sink.wait_for(lambda m: m.mail_from in ("", "<>") and token.encode() in m.data)[0]
    assert dsn.rcpt_tos == ["sender@example.test"]
    msg, rcpts, per_msg = parse_dsn(dsn)
    assert per_msg["Reporting-MTA"] == "dns; mx.gw.test"
    assert len(rcpts) == 1
    assert rcpts[0]["Final-Recipient"] == f"rfc822; user@{domain}"
    assert rcpts[0]["Action"] == "failed"
    assert rcpts[0]["Status"] == status
    gw.wait_event(proc="queue", event="removed", queue_id=qid)
    assert not os.path.exists(gw.path("spool", "queue", qid))


@pytest.mark.skipif(not mwsys.ipv6_loopback_available(), reason="no IPv6 loopback")
def test_ipv6_only_mx_host(gw, mx_port):
    sink6 = PeerSink(mx_port, host="::1").start()
    try:
        token = mwsys.unique("v6")
        qid = send(gw, "sender@example.test", ["user@v6.test"], _body(token))
        sink6.wait_token(token)
        assert gw.wait_delivered(qid)["mta"] == "::1"
    finally:
        sink6.stop()


def test_dns_down_static_routes_deliver_and_mx_mail_waits_for_dns(make_gateway, sink, ports, mx_sinks, mx_port):
    """TOP-4: the resolver is unreachable; example.test (static route) is
    delivered at once, prio.test waits and goes out once DNS is back."""
    dns_port = ports.get()
    gw2 = make_gateway(sink=sink, dns={"servers": [f"127.0.0.1:{dns_port}"]},
                       queue={"mx_port": mx_port, "retry_min": "1s", "retry_max": "1s"})
    static_token, mx_token = mwsys.unique("static"), mwsys.unique("waits")
    send(gw2, "sender@example.test", ["user@example.test"], _body(static_token))
    qid = send(gw2, "sender@example.test", ["user@prio.test"], _body(mx_token))
    sink.wait_token(static_token)
    deferred = gw2.wait_event(proc="queue", event="delivery", queue_id=qid, status="deferred")
    assert deferred["reply"].startswith("451 4.4.3")
    assert not mx_sinks["127.0.0.41"].with_token(mx_token)
    late = Dnsmasq(dns_port, ["--mx-host=prio.test,mx1.prio.test,10",
                              "--host-record=mx1.prio.test,127.0.0.41"]).start()
    try:
        mx_sinks["127.0.0.41"].wait_token(mx_token, timeout=15)
        gw2.wait_delivered(qid)
    finally:
        late.stop()


def test_a_static_route_by_host_name_resolves_through_the_gateway_s_resolver(make_gateway, sink, dns,
                                                                              mx_sinks, mx_port):
    """Issue 16 item 8: a route naming a host is resolved with c-ares on the
    configured dns.servers (the machine's resolver does not know
    relay.named.test), never with a blocking lookup on the queue's loop; a
    name that does not resolve defers (a local problem), it never bounces."""
    gw2 = make_gateway(sink=sink, dns={"servers": [dns.servers]},
                       local_domains=["example.test", "named.test", "nohost.test"],
                       routes={"example.test": f"smtp://127.0.0.1:{sink.port}",
                               "named.test": f"smtp://relay.named.test:{mx_port}",
                               "nohost.test": f"smtp://nohost.named.test:{mx_port}"})
    token = mwsys.unique("named")
    qid = send(gw2, "sender@example.test", ["user@named.test"], _body(token))
    gw2.wait_delivered(qid)
    assert mx_sinks["127.0.0.44"].wait_token(token)
    start = gw2.mark()
    qid = send(gw2, "sender@example.test", ["user@nohost.test"], _body(mwsys.unique("nohost")))
    ev = gw2.wait_event(start=start, proc="queue", event="delivery", queue_id=qid, status="deferred")
    assert "451 4.4.3 address lookup of nohost.named.test failed" in ev["reply"]
