"""The scanner may replace the message it was shown (issue 10: "optionally
a rewritten body"; SCAN-8's strip builds on it). The first check that does
is "verdict_headers": header fields only this gateway writes (X-Spam-Flag,
X-Spam-Score, X-Spam-Status, X-Mailwarden-*, and Authentication-Results
under our own authserv-id, RFC 8601 section 5) are removed from what
arrives, so downstream filters never see a sender's forged verdict.

The rewritten message comes back as a sealed memfd; the queue stores it in
place of the received one before the commit (delivery reads the stored
length), and a message that goes to quarantine keeps the original."""

import pytest

import mwsys

HOSTNAME = "mx.gw.test"   # mwsys's default hostname = our authserv-id
FORGED = (b"X-Spam-Flag: NO\r\n"
          b"X-Spam-Score : -5\r\n"
          b"X-Spam-Status: No, score=-100\r\n"
          b"\tfolded=yes\r\n"
          b"Authentication-Results: MX.GW.TEST (forged);\r\n\tdmarc=pass header.from=bank.test\r\n"
          b"Authentication-Results: relay.other.test; spf=pass smtp.mailfrom=a@client.test\r\n"
          b"X-Mailwarden-Scan: clean\r\n")
KEPT = b"Authentication-Results: relay.other.test; spf=pass smtp.mailfrom=a@client.test\r\n"
PROPER = (b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\n"
          b"Subject: %s\r\n")
BODY = b"\r\nX-Spam-Flag: NO in the body stays\r\nlast line\r\n"


def message(token, forged=FORGED):
    return PROPER % (token, token) + forged + BODY


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    scan = {"inbound": {"checks": {"verdict_headers": {"action": "score", "points": 1}}, "tag": 100},
            "outbound": {"checks": {"verdict_headers": {"action": "score", "points": 20}}, "quarantine": 10}}
    return make_gateway(sink=sink, scan=scan)


send = mwsys.send_message


def header_section(msg):
    return msg[:msg.index(b"\r\n\r\n") + 2]


def test_forged_verdict_fields_are_removed_and_the_rest_is_byte_exact(gw, sink):
    start = gw.mark()
    sent = message(b"rewrite-forged")
    final = send(gw, sent)
    assert final.code == 250, final
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="scanner", event="content_scanned", queue_id=qid,
                  symbols="HEADER_FORGED_VERDICT(1)")
    ev = gw.wait_event(start=start, proc="queue", event="rewritten", queue_id=qid)
    assert int(ev["size"]) - int(ev["new_size"]) == len(FORGED) - len(KEPT)
    got = sink.wait_token("rewrite-forged").data
    head = header_section(got)
    assert b"X-Spam-Flag: NO" not in head and b"X-Spam-Status: No" not in head
    assert b"folded=yes" not in head and b"dmarc=pass" not in head
    assert b"X-Mailwarden-Scan" not in head and b"X-Spam-Score : -5" not in head
    # Another host's results stay, ours (added by the queue) is the only one under our name.
    assert b"Authentication-Results: relay.other.test; spf=pass" in head
    assert head.lower().count(b"authentication-results: " + HOSTNAME.encode()) == 1
    # The message as sent, minus the removed fields: the body ends where the client ended it.
    assert got.endswith(PROPER % (b"rewrite-forged", b"rewrite-forged") + KEPT + BODY)


def test_a_message_without_such_fields_is_not_rewritten(gw, sink):
    start = gw.mark()
    sent = message(b"rewrite-clean", forged=b"X-Spam-Flagged: not ours\r\nX-Mailwarden: neither\r\n")
    final = send(gw, sent)
    assert final.code == 250
    qid = mwsys.queue_id(final)
    gw.wait_delivered(qid)
    assert sink.wait_token("rewrite-clean").data.endswith(sent)
    assert not gw.events(start=start, proc="queue", event="rewritten")


def test_quarantine_keeps_the_message_as_it_arrived(gw):
    start = gw.mark()
    sent = message(b"rewrite-held")
    final = send(gw, sent, source="127.0.0.10", rcpt="user@elsewhere.test")  # trusted: outbound policy
    assert final.code == 250, final
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="queue", event="quarantined", queue_id=qid)
    assert not gw.events(start=start, proc="queue", event="rewritten")
    raw = open(gw.path("spool", "quarantine", qid), "rb").read()
    assert sent in raw


def test_with_the_check_off_the_fields_stay(make_gateway, make_sink):
    sink = make_sink()
    gw = make_gateway(sink=sink, scan={"inbound": {"checks": {"headers": "score"}}})
    sent = message(b"rewrite-off")
    final = send(gw, sent)
    assert final.code == 250
    assert sink.wait_token("rewrite-off").data.endswith(sent)
