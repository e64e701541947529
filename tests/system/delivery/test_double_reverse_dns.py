"""Double-reverse DNS (SEC-3, issue 16 item 6): check-config resolves the
configured hostname (A/AAAA) and the PTR of the addresses that matter
(queue.source_address, else every address of hostname) through dns.servers
(here a dnsmasq on loopback) and warns when they do not name each other;
--no-dns skips it. queue.source_address is bound before connect, so a next
hop sees the gateway come from it; when it cannot be bound the delivery is
deferred, never made from another address."""

import subprocess

import pytest

import mwsys
from peers import Dnsmasq

RECORDS = [
    "--host-record=mx.test,127.0.0.77",              # A and PTR agree
    "--address=/bad.test/127.0.0.78",                # A ...
    "--ptr-record=78.0.0.127.in-addr.arpa,other.test",  # ... whose PTR names another host
]


@pytest.fixture(scope="module")
def dns(ports):
    d = Dnsmasq(ports.get(), RECORDS).start()
    yield d
    d.stop()


def _check(mw_bin, workdir, dns, hostname, source=None, *flags):
    conf = f"{workdir}/revdns-{hostname}-{source}.yaml"
    with open(conf, "w") as f:
        f.write(f"hostname: {hostname}\nstate_dir: {workdir}/revdns-state\n"
                f"dns:\n  servers: ['{dns.servers}']\n  timeout: 2s\n")
        if source:
            f.write(f"queue:\n  source_address: '{source}'\n")
    p = subprocess.run([mw_bin, "check-config", *flags, "-c", conf], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return [line.split(": warning: ", 1)[1] for line in p.stdout.splitlines() if "SEC-3" in line]


def test_check_config_is_quiet_when_hostname_and_ptr_agree(mw_bin, workdir, dns):
    assert _check(mw_bin, workdir, dns, "mx.test") == []
    assert _check(mw_bin, workdir, dns, "mx.test", "127.0.0.77") == []


def test_check_config_warns_when_the_ptr_names_another_host(mw_bin, workdir, dns):
    assert _check(mw_bin, workdir, dns, "bad.test") == [
        "address of hostname 127.0.0.78 has PTR other.test, not hostname bad.test: "
        "double-reverse DNS (SEC-3) fails"]


def test_check_config_warns_when_the_source_address_is_not_the_hostnames(mw_bin, workdir, dns):
    assert _check(mw_bin, workdir, dns, "mx.test", "127.0.0.78") == [
        "queue.source_address 127.0.0.78 is not an address of hostname mx.test (double-reverse DNS, SEC-3)",
        "queue.source_address 127.0.0.78 has PTR other.test, not hostname mx.test: "
        "double-reverse DNS (SEC-3) fails"]


def test_check_config_warns_when_the_hostname_does_not_resolve(mw_bin, workdir, dns):
    warnings = _check(mw_bin, workdir, dns, "missing.test")
    assert len(warnings) == 1 and warnings[0].startswith("hostname missing.test has no A or AAAA record"), warnings


def test_check_config_no_dns_skips_the_check(mw_bin, workdir, dns):
    assert _check(mw_bin, workdir, dns, "bad.test", None, "--no-dns") == []


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink, queue={"source_address": "127.0.0.77", "retry_min": "1h",
                                          "retry_max": "2h", "lifetime": "1d"})


def test_the_next_hop_sees_the_configured_source_address(gw, sink):
    token = mwsys.unique("src")
    start = gw.mark()
    qid = mwsys.send_token(gw, token)
    delivery = gw.wait_event(proc="queue", event="delivery", queue_id=qid, start=start)
    assert delivery["status"] == "sent", delivery
    assert sink.wait_token(token).peer[0] == "127.0.0.77"


def test_an_unusable_source_address_defers_delivery(make_gateway, make_sink):
    sink = make_sink()
    # 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails.
    gw = make_gateway(sink=sink, queue={"source_address": "192.0.2.1", "retry_min": "1h",
                                        "retry_max": "2h", "lifetime": "1d"})
    token = mwsys.unique("nosrc")
    start = gw.mark()
    qid = mwsys.send_token(gw, token)
    delivery = gw.wait_event(proc="queue", event="delivery", queue_id=qid, start=start)
    assert delivery["status"] == "deferred", delivery
    assert "queue.source_address" in delivery["reply"], delivery
    assert sink.with_token(token) == []
