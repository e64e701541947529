"""IP reputation (SCAN-3): live DNSBL queries against dnsmasq, local
rbldnsd zone files (no query leaves the gateway, edits take effect
without a restart), and static allow/deny lists."""

import os

import pytest

import mwsys
from scan_env import CLEAN, LISTED, LISTED_CODE4, session, send, write

ZONE_LISTED = "127.50.1.9"
ZONE_EXCLUDED = "127.50.1.10"
ZONE_LATER = "127.50.1.20"
DENIED = "127.50.1.30"
ALLOWED = "127.50.1.40"
ALLOWED_IN_ZONE = "127.50.1.41"

ZONE = f"""# local copy, rbldnsd ip4set
$TTL 3600
:127.0.0.2:Listed locally, see https://bl.example/lookup?$
127.50.1.0/28
!{ZONE_EXCLUDED}
{ALLOWED_IN_ZONE}
"""


@pytest.fixture(scope="module")
def files(workdir):
    paths = {name: os.path.join(workdir, name) for name in ("local.zone", "allow.txt", "deny.txt")}
    write(paths["local.zone"], ZONE)
    write(paths["allow.txt"], f"# partners\n{ALLOWED}/32\n127.50.1.41\n")
    write(paths["deny.txt"], f"{DENIED}\n2001:db8::/32\n")
    return paths


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


def scan_config(dns, files, dnsbl_action):
    return {
        "dns_servers": dns.servers,
        "ip_allow": files["allow.txt"],
        "ip_deny": files["deny.txt"],
        "rbl_files": [{"file": files["local.zone"], "name": "localbl", "points": 10}],
        "dnsbl": [{"zone": "bl.test", "points": 6, "codes": {"127.0.0.4": 2}}],
        "inbound": {
            "checks": {
                "iplist": {"action": "refuse", "reply": "554 5.7.1 Go away"},
                "rbl_file": "refuse",
                "dnsbl": {"action": dnsbl_action,
                          "reply": "554 5.7.1 Service unavailable; blocked by DNSBL"},
            },
            "tag": 5,
        },
    }


@pytest.fixture(scope="module")
def gw(make_gateway, dns, files, sink):
    return make_gateway(sink=sink, scan=scan_config(dns, files, "refuse"))


@pytest.fixture(scope="module")
def gw_score(make_gateway, dns, files, sink):
    return make_gateway(sink=sink, scan=scan_config(dns, files, "score"))


def test_dnsbl_listed_client_is_refused_online_with_the_configured_reply(gw):
    r = session(gw, LISTED)
    assert r["greeting"].code == 554
    assert r["greeting"].text.startswith("5.7.1 Service unavailable; blocked by DNSBL")
    assert "bl.test" in r["greeting"].text and LISTED in r["greeting"].text
    assert r["client"].at_eof()


def test_dnsbl_clean_client_gets_the_greeting(gw, sink):
    _, final = send(gw, CLEAN, "dnsbl-clean")
    assert final.code == 250
    msg = sink.wait_token("dnsbl-clean")
    assert b"X-Spam-Flag" not in msg.data


def test_dnsbl_under_score_policy_only_adds_points(gw_score, sink):
    start = gw_score.mark()
    _, final = send(gw_score, LISTED, "dnsbl-scored")
    assert final.code == 250
    msg = sink.wait_token("dnsbl-scored")
    assert b"X-Spam-Flag: YES" in msg.data
    assert b"DNSBL(6)" in msg.data
    gw_score.wait_event(start=start, event="scan_verdict", client=LISTED, score="6", action="tag")


def test_dnsbl_return_code_weights_the_points(gw_score):
    start = gw_score.mark()
    _, final = send(gw_score, LISTED_CODE4, "dnsbl-code4")
    assert final.code == 250
    gw_score.wait_event(start=start, event="scan_verdict", client=LISTED_CODE4, score="2",
                        action="accept")


@pytest.fixture(scope="module")
def gw_weights(make_gateway, dns, files, sink):
    """Lists with their own weights in decimals, one of them negative (a
    return code that speaks for the client)."""
    config = scan_config(dns, files, "score")
    config["dnsbl"] = [{"zone": "bl.test", "points": "2.75", "codes": {"127.0.0.4": "-1.5"}}]
    return make_gateway(sink=sink, scan=config)


def test_dnsbl_points_with_decimals_are_scored_as_written(gw_weights, sink):
    start = gw_weights.mark()
    _, final = send(gw_weights, LISTED, "dnsbl-decimal")
    assert final.code == 250
    assert b"X-Spam-" not in sink.wait_token("dnsbl-decimal").data
    gw_weights.wait_event(start=start, event="scan_hit", symbol="DNSBL", points="2.75")
    gw_weights.wait_event(start=start, event="scan_verdict", client=LISTED, score="2.75", symbols="DNSBL(2.75)",
                          action="accept")


def test_a_negative_return_code_weight_counts_as_negative(gw_weights):
    """It used to be taken for "the check's configured points" (1)."""
    start = gw_weights.mark()
    _, final = send(gw_weights, LISTED_CODE4, "dnsbl-negative")
    assert final.code == 250
    gw_weights.wait_event(start=start, event="scan_verdict", client=LISTED_CODE4, score="-1.5",
                          symbols="DNSBL(-1.5)", action="accept")


def test_local_zone_hit_refuses_without_any_dns_query(gw, dns):
    before = len(dns.queries())
    r = session(gw, ZONE_LISTED)
    assert r["greeting"].code == 554
    assert "listed in localbl" in r["greeting"].text
    assert f"lookup?{ZONE_LISTED}" in r["greeting"].text
    assert r["client"].at_eof()
    reversed_ip = ".".join(reversed(ZONE_LISTED.split(".")))
    assert not [q for q in dns.queries()[before:] if reversed_ip in q]


def test_local_zone_exclusion_is_not_listed(gw):
    r = session(gw, ZONE_EXCLUDED)
    assert r["greeting"].code == 220
    r["client"].close()


def test_local_zone_edit_takes_effect_without_restart(gw, files):
    smtpd, queue = gw.pid("smtpd"), gw.pid("queue")
    # A session open across the change is not disturbed.
    before = session(gw, ZONE_LATER)
    assert before["greeting"].code == 220
    start = gw.mark()
    write(files["local.zone"], ZONE + f"{ZONE_LATER}\n")
    gw.wait_event(start=start, event="scan_files_changed")
    gw.wait_event(start=start, event="scan_zone_loaded", ranges="4")
    gw.wait_event(start=start, event="scan_files_reloaded")
    r = session(gw, ZONE_LATER)
    assert r["greeting"].code == 554
    r["client"].close()
    assert before["client"].cmd("NOOP").code == 250
    before["client"].close()
    # No restart: the same smtpd and queue processes.
    assert (gw.pid("smtpd"), gw.pid("queue")) == (smtpd, queue)
    assert not gw.events(start=start, event="spawned")


def test_deny_list_refuses_with_its_reply(gw):
    r = session(gw, DENIED)
    assert r["greeting"].code == 554
    assert r["greeting"].text.startswith("5.7.1 Go away")


def test_allow_listed_client_skips_the_reputation_checks(gw, dns, sink):
    before = len(dns.queries())
    _, final = send(gw, ALLOWED_IN_ZONE, "allowed-in-zone")
    assert final.code == 250
    sink.wait_token("allowed-in-zone")
    reversed_ip = ".".join(reversed(ALLOWED_IN_ZONE.split(".")))
    assert not [q for q in dns.queries()[before:] if reversed_ip in q]


@pytest.mark.skipif(not mwsys.ipv6_loopback_available(), reason="no IPv6 loopback")
def test_ipv6_client_on_the_deny_list_is_refused(make_gateway, ports, workdir, dns):
    deny = os.path.join(workdir, "deny6.txt")
    write(deny, "::1/128\n")
    gw6 = make_gateway(
        listeners=[{"name": "mta", "address": "127.0.0.1", "port": ports.get()},
                   {"name": "mta6", "address": "::1", "port": ports.get()}],
        scan={"dns_servers": dns.servers, "ip_deny": deny,
              "inbound": {"checks": {"iplist": "refuse"}}})
    port6 = gw6.config["listeners"][1]["port"]
    with mwsys.SmtpClient(port6, host="::1") as c:
        assert c.greeting().code == 554
    r = session(gw6, CLEAN)
    assert r["greeting"].code == 220
    r["client"].close()


@pytest.fixture(scope="module")
def gw_domains(make_gateway, workdir, dns, sink):
    path = os.path.join(workdir, "domains.zone")
    write(path, ":127.0.0.2:Domain listed locally\nspammer.test\n*.dyn.test\n")
    return make_gateway(sink=sink, scan={
        "dns_servers": dns.servers,
        "rbl_files": [{"file": path, "name": "localdbl", "type": "dnset", "points": 5}],
        "inbound": {"checks": {"domain_file": "refuse"}}})


def test_local_domain_list_refuses_helo_and_sender_without_a_query(gw_domains, dns):
    before = len(dns.queries())
    r = session(gw_domains, CLEAN, helo="host-7.dyn.test")
    assert r["helo"].code == 554 and "HELO name host-7.dyn.test listed in localdbl" in r["helo"].text
    r["client"].close()
    r = session(gw_domains, CLEAN, helo="clean.mail.test", sender="bulk@SPAMMER.test")
    assert r["mail"].code == 554 and "sender domain" in r["mail"].text
    r["client"].close()
    r = session(gw_domains, CLEAN, helo="dyn.test", sender="a@good.test")
    assert r["rcpt"].code == 250  # *.dyn.test lists subdomains only
    r["client"].close()
    assert not [q for q in dns.queries()[before:] if "dyn.test" in q or "spammer.test" in q]
