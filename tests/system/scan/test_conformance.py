"""RFC conformance during SMTP (SCAN-4): HELO/EHLO name, reverse DNS,
forward-confirmed reverse DNS, SPF, sender domain and recipient table,
each under "refuse" here (and one under "score" to show the difference),
with the results in Authentication-Results (RFC 8601)."""

import os

import pytest

from scan_env import BADFC, CLEAN, NOPTR, send, session, write


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def recipients(workdir):
    path = os.path.join(workdir, "recipients.txt")
    write(path, "# known mailboxes\nuser@example.test\nPostmaster@example.test\n@other.test\n")
    return path


def checks(action):
    return {name: action for name in
            ("rdns", "fcrdns", "helo", "sender_domain", "spf", "recipient")}


@pytest.fixture(scope="module")
def gw(make_gateway, dns, sink, recipients):
    return make_gateway(sink=sink, scan={
        "dns_servers": dns.servers, "recipients": recipients,
        "inbound": {"checks": checks("refuse")}})


@pytest.fixture(scope="module")
def gw_score(make_gateway, dns, sink, recipients):
    return make_gateway(sink=sink, scan={
        "dns_servers": dns.servers, "recipients": recipients,
        "inbound": {"checks": {"rdns": {"action": "score", "points": 3}, "helo": "score"},
                    "tag": 3}})


@pytest.mark.parametrize("helo", ["localhost", "client", "bad_name.test", "-x.test", "[999.1.1.1]"])
def test_helo_that_is_not_a_fqdn_or_literal_is_refused(gw, helo):
    r = session(gw, CLEAN, helo=helo)
    assert r["helo"].code == 550, r["helo"]
    assert "Helo command rejected" in r["helo"].text
    # The session goes on: a proper EHLO is accepted.
    assert r["client"].cmd("EHLO clean.mail.test").code == 250
    r["client"].close()


def test_helo_with_our_own_name_is_refused(gw):
    r = session(gw, CLEAN, helo="mx.gw.test")
    assert r["helo"].code == 550 and "own name" in r["helo"].text


# Issue 18 item 5: a client from outside greeting as one of our local
# domains (example.test, other.test) or a subdomain of one.
@pytest.mark.parametrize("helo", ["example.test", "mail.example.test", "A.B.Other.Test", "example.test."])
def test_helo_with_one_of_our_local_domains_is_refused(gw, helo):
    r = session(gw, CLEAN, helo=helo)
    r["client"].close()
    assert r["helo"].code == 550 and "own domain" in r["helo"].text, r["helo"]


@pytest.mark.parametrize("helo", ["notexample.test", "example.test.evil.test", "clean.mail.test"])
def test_helo_that_only_resembles_a_local_domain_is_accepted(gw, helo):
    r = session(gw, CLEAN, helo=helo)
    r["client"].close()
    assert r["helo"].code == 250, r["helo"]


def test_helo_name_that_resolves_to_our_listener_address_is_refused(gw):
    r = session(gw, CLEAN, helo="forged-helo.mail.test")
    r["client"].close()
    assert r["helo"].code == 550 and "resolves to our own address" in r["helo"].text, r["helo"]


def test_helo_address_literal_must_be_the_client(gw):
    r = session(gw, CLEAN, helo="[192.0.2.1]")
    assert r["helo"].code == 550 and "not your address" in r["helo"].text
    r = session(gw, CLEAN, helo=f"[{CLEAN}]")
    assert r["helo"].code == 250


def test_client_without_reverse_dns_is_refused(gw):
    r = session(gw, NOPTR)
    assert r["greeting"].code == 550
    assert r["greeting"].text.startswith("5.7.25") and "reverse hostname" in r["greeting"].text


def test_client_whose_reverse_name_does_not_resolve_back_is_refused(gw):
    r = session(gw, BADFC)
    assert r["greeting"].code == 550
    assert "does not match" in r["greeting"].text or "does not resolve back" in r["greeting"].text


def test_authentication_results_carries_iprev(gw, sink):
    _, final = send(gw, CLEAN, "iprev-pass", helo="clean.mail.test")
    assert final.code == 250
    msg = sink.wait_token("iprev-pass")
    assert b"Authentication-Results: mx.gw.test;" in msg.data
    assert f"iprev=pass policy.iprev={CLEAN} (clean.mail.test)".encode() in msg.data


def test_unresolvable_sender_domain_is_refused(gw):
    r = session(gw, CLEAN, helo="clean.mail.test", sender="x@nosuch.test")
    assert r["mail"].code == 550 and "domain" in r["mail"].text


def test_sender_domain_with_only_an_address_record_is_accepted(gw):
    r = session(gw, CLEAN, helo="clean.mail.test", sender="x@a-only.test")
    assert r["mail"].code == 250


def test_null_sender_is_not_checked_for_a_domain(gw):
    r = session(gw, CLEAN, helo="clean.mail.test", sender="")
    assert r["mail"].code == 250


def test_unknown_recipient_is_refused_via_the_table(gw):
    r = session(gw, CLEAN, helo="clean.mail.test", rcpt="nobody@example.test")
    assert r["rcpt"].code == 550
    assert r["rcpt"].text.startswith("5.1.1") and "nobody@example.test" in r["rcpt"].text


@pytest.mark.parametrize("rcpt", ["user@example.test", "POSTMASTER@example.test", "anyone@other.test"])
def test_known_recipients_pass_the_table(gw, rcpt):
    r = session(gw, CLEAN, helo="clean.mail.test", rcpt=rcpt)
    assert r["rcpt"].code == 250


def test_under_score_policy_missing_rdns_only_adds_points(gw_score, sink):
    start = gw_score.mark()
    _, final = send(gw_score, NOPTR, "rdns-scored", helo="localhost")
    assert final.code == 250
    msg = sink.wait_token("rdns-scored")
    assert b"X-Spam-Flag: YES" in msg.data
    assert b"RDNS_NONE(3)" in msg.data and b"HELO_BAD_SYNTAX(1)" in msg.data
    assert b"iprev=fail" in msg.data
    gw_score.wait_event(start=start, event="scan_verdict", client=NOPTR, score="4", action="tag")


@pytest.fixture(scope="module")
def refusing_sink(make_sink):
    s = make_sink()
    s.replies["RCPT"] = "550 5.1.1 no such mailbox here"
    return s


@pytest.fixture(scope="module")
def gw_callout(make_gateway, dns, sink, refusing_sink):
    return make_gateway(
        local_domains=["example.test", "callout.test"],
        routes={"example.test": sink.url, "callout.test": refusing_sink.url},
        scan={"dns_servers": dns.servers, "inbound": {"checks": {"callout": "refuse"}}})


def test_unknown_recipient_is_refused_via_a_callout_and_cached(gw_callout):
    start = gw_callout.mark()
    r = session(gw_callout, CLEAN, rcpt="ghost@callout.test")
    assert r["rcpt"].code == 550
    assert "ghost@callout.test" in r["rcpt"].text and "no such mailbox here" in r["rcpt"].text
    gw_callout.wait_event(start=start, event="scan_callout", rcpt="ghost@callout.test", result="unknown")
    assert r["client"].cmd("RCPT TO:<ghost@callout.test>").code == 550
    gw_callout.wait_event(start=start, event="scan_callout", rcpt="ghost@callout.test", cached="yes")
    r["client"].close()


def test_recipient_the_internal_server_knows_passes_the_callout(gw_callout, sink):
    start = gw_callout.mark()
    _, final = send(gw_callout, CLEAN, "callout-known", rcpt="someone@example.test")
    assert final.code == 250
    gw_callout.wait_event(start=start, event="scan_callout", rcpt="someone@example.test", result="known")
    sink.wait_token("callout-known")
