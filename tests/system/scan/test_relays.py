"""Relay analysis (issue 11, SCAN-5): the gateway writes the client's
forward-confirmed reverse DNS name into its Received field as Postfix
does, and SpamAssassin-format rules on X-Spam-Relays-External see it: a
client whose PTR dnsmasq serves (and which resolves back) is judged
differently from one without a PTR or whose PTR does not resolve back.
`mailwarden scan` reads a saved message's Received chain the same way."""

import json
import os
import subprocess

import pytest

import mwsys
from scan_env import BADFC, CLEAN, NOPTR, send

# Our own rules in the form of Debian's __RDNS_NONE, and one on the
# exact text of a relay with a verified name.
RULES = r"""
header RELAY_NO_RDNS     X-Spam-Relays-External =~ /^[^\]]+ rdns= /
describe RELAY_NO_RDNS   First untrusted relay has no verified reverse DNS
score RELAY_NO_RDNS      6
header RELAY_VERIFIED    X-Spam-Relays-External =~ /^\[ ip=127\.50\.0\.3 rdns=clean\.mail\.test helo=clean\.mail\.test by=mx\.gw\.test ident= envfrom= intl=0 id=\S+ auth= msa=0 \]$/
score RELAY_VERIFIED     -1
header RELAY_TRUSTED_ANY X-Spam-Relays-Trusted =~ /ip=/
score RELAY_TRUSTED_ANY  20
"""


@pytest.fixture(scope="module")
def rules(workdir):
    d = os.path.join(workdir, "relay-rules")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "50_relays.cf"), "w") as f:
        f.write(RULES)
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "50_relays.cf"), 0o644)
    return d


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, dns, sink, rules):
    return make_gateway(sink=sink, scan={
        "dns_servers": dns.servers, "rules": [rules],
        "inbound": {"checks": {"fcrdns": {"action": "score", "points": 0.5}, "rules": "score"},
                    "tag": 5}})


def delivered(gw, sink, source, token, helo):
    """Send from source; the message as the sink got it, and the symbols
    of the queue's verdict event."""
    start = gw.mark()
    _, final = send(gw, source, token, helo=helo)
    assert final is not None and final.code == 250, final
    v = gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))
    return sink.wait_token(token).data, set(v["symbols"].split(","))


def test_verified_client_name_reaches_the_received_field_and_the_rules(gw, sink):
    data, symbols = delivered(gw, sink, CLEAN, "relay-clean", "clean.mail.test")
    assert f"Received: from clean.mail.test (clean.mail.test [{CLEAN}])".encode() in data
    assert symbols == {"RELAY_VERIFIED(-1)"}, "an untrusted client's hop is never trusted"
    assert b"X-Spam-Flag: YES" not in data


@pytest.mark.parametrize("source,why", [(NOPTR, "no PTR"), (BADFC, "PTR does not resolve back")])
def test_client_without_a_verified_name_hits_the_rdns_rule(gw, sink, source, why):
    token = f"relay-{source.rsplit('.', 1)[1]}"
    data, symbols = delivered(gw, sink, source, token, "client.mail.test")
    assert f"Received: from client.mail.test (unknown [{source}])".encode() in data, why
    assert symbols == {"RELAY_NO_RDNS(6)", "FCRDNS_FAIL(0.5)"}, why
    assert b"X-Spam-Flag: YES" in data


# A saved message as Postfix received it from a client without a name,
# behind our own relay (10.x: trusted by inference).
SAVED = (b"Received: from mx.example.net (mx.example.net [10.0.0.2]) by filter.example.net (Postfix) "
         b"with ESMTP id 1A; Mon, 7 Dec 2026 04:00:02 +0000\r\n"
         b"Received: from bulk-sender (unknown [203.0.113.9]) by mx.example.net (Postfix) with ESMTP "
         b"id 2B; Mon, 7 Dec 2026 04:00:01 +0000\r\n"
         b"From: a@example.org\r\nTo: b@example.net\r\nSubject: saved\r\n\r\nbody\r\n")


@pytest.mark.parametrize("trusted,expect", [
    # inferred: the 10.x hop is ours, the sender's hop the first external one
    (None, {"RELAY_NO_RDNS", "RELAY_TRUSTED_ANY"}),
    # configured elsewhere: nothing is ours, the first external hop has a name
    (["192.0.2.0/24"], set()),
    # configured to cover both hops: nothing is external
    (["10.0.0.0/8", "203.0.113.0/24"], {"RELAY_TRUSTED_ANY"}),
])
def test_scan_command_reads_the_received_chain(mw_bin, rules, workdir, trusted, expect):
    path = os.path.join(workdir, "saved.eml")
    with open(path, "wb") as f:
        f.write(SAVED)
    config = os.path.join(workdir, f"scan-{len(trusted or [])}.yaml")
    scan = {"rules": [rules], "inbound": {"checks": {"rules": "score"}}}
    if trusted:
        scan["trusted_networks"] = trusted
    with open(config, "w") as f:
        f.write(mwsys.to_yaml({"hostname": "mx.gw.test", "state_dir": os.path.join(workdir, "scan-state"),
                               "scan": scan}))
    r = subprocess.run([mw_bin, "scan", "-c", config, "--json", path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert {s["symbol"] for s in json.loads(r.stdout.splitlines()[0])["symbols"]} == expect


def test_a_bad_trusted_network_is_named_with_file_line_and_key(mw_bin, workdir):
    config = os.path.join(workdir, "bad.yaml")
    with open(config, "w") as f:
        f.write("hostname: mx.gw.test\nscan:\n  trusted_networks:\n    - 10.0.0.0/8\n    - 10.0.0.1/8\n")
    r = subprocess.run([mw_bin, "check-config", "-c", config], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert f"{config}:5: scan.trusted_networks[1]: not a network" in r.stdout + r.stderr
