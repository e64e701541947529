"""SPF (SCAN-4) with the result in Authentication-Results (RFC 8601).

libspf2 passes any 127/8 client, so this module runs in a network
namespace of its own (conftest.private_network) where the client has the
address 192.0.2.77 on the namespace's lo: dnsmasq, the gateway, the sink
and the client all live there, and nothing leaves it."""

import pytest

from scan_env import send, session


@pytest.fixture(scope="module", autouse=True)
def network(private_network):
    """Autouse, so the namespace exists before any other module fixture
    (dnsmasq, sink, gateway) starts."""
    return private_network


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, dns, sink):
    return make_gateway(sink=sink, scan={
        "dns_servers": dns.servers,
        "inbound": {"checks": {"spf": "refuse", "rdns": "score", "fcrdns": "score"}}})


def test_spf_fail_refuses_the_sender(gw, network):
    r = session(gw, network, helo="spf.mail.test", sender="someone@spf-fail.test")
    assert r["mail"].code == 550
    assert r["mail"].text.startswith("5.7.23") and "SPF fail" in r["mail"].text
    r["client"].close()


@pytest.mark.parametrize("domain", ["spf-pass.test", "spf-include.test"])
def test_spf_pass_is_recorded_in_authentication_results(gw, sink, network, domain):
    token = f"spf-{domain}"
    _, final = send(gw, network, token, helo="spf.mail.test", sender=f"someone@{domain}")
    assert final is not None and final.code == 250
    msg = sink.wait_token(token)
    assert f"spf=pass smtp.mailfrom={domain}".encode() in msg.data
    assert b"iprev=pass policy.iprev=192.0.2.77" in msg.data
