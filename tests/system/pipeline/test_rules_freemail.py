"""SpamAssassin's FreeMail plugin in the scanner (issue 11; SCAN-5): the
settings and rules of a FreeMail rule file (Debian's 20_freemail.cf has
the same form) run on mail the gateway receives; the envelope sender the
gateway saw counts as a sender address (FREEMAIL_FROM) and as the
EnvelopeFrom of check_freemail_header, and `mailwarden scan` falls back
to the Return-Path written above the Received fields."""

import json
import subprocess

import pytest

import mwsys

FREEMAIL_RULES = """ifplugin Mail::SpamAssassin::Plugin::FreeMail
freemail_domains gmail.com hotmail.com yahoo.*
header   FREEMAIL_FROM  eval:check_freemail_from()
score    FREEMAIL_FROM  0.5
header   FREEMAIL_ENVFROM_END_DIGIT  eval:check_freemail_header('EnvelopeFrom', '\\d@')
score    FREEMAIL_ENVFROM_END_DIGIT  1.5
header   __freemail_replyto  eval:check_freemail_replyto('replyto')
meta     FREEMAIL_REPLYTO  __freemail_replyto
score    FREEMAIL_REPLYTO  2
endif
"""


def message(token, head=b""):
    return (b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\n"
            b"From: Sales <sales7@shop.example>\r\nSubject: %s\r\n%s\r\nhello\r\n" % (token, token, head))


@pytest.fixture
def rules_dir(tmp_path):
    return mwsys.write_rule_dir(tmp_path, FREEMAIL_RULES)


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn, rules_dir):
    sink = make_sink_fn()
    g = make_gateway_fn(sink=sink, scan={"rules": [str(rules_dir)], "inbound": {"checks": {"rules": "score"}}})
    g.sink = sink
    return g


def symbols(gw, final, start):
    """The rules the message hit, per the scanner's verdict event."""
    assert final.code == 250, final
    v = gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))
    return set() if v["symbols"] == "none" else set(v["symbols"].split(","))


def test_a_free_mail_envelope_sender_ending_in_a_digit_hits_both_rules(gw):
    start = gw.mark()
    final = mwsys.send_message(gw, message(b"fm-env"), sender="joe7@gmail.com")
    assert symbols(gw, final, start) == {"FREEMAIL_FROM(0.5)", "FREEMAIL_ENVFROM_END_DIGIT(1.5)"}


def test_a_company_sender_with_a_free_mail_reply_to_alone_hits_nothing(gw):
    start = gw.mark()
    final = mwsys.send_message(gw, message(b"fm-corp", b"Reply-To: joe@hotmail.com\r\n"),
                               sender="sales7@shop.example")
    assert symbols(gw, final, start) == set()


def test_two_different_free_mailboxes_in_from_and_reply_to(gw):
    start = gw.mark()
    body = message(b"fm-two", b"Reply-To: other@yahoo.de\r\n").replace(b"sales7@shop.example", b"joe@gmail.com")
    final = mwsys.send_message(gw, body, sender="joe@gmail.com")
    assert symbols(gw, final, start) == {"FREEMAIL_REPLYTO(2)", "FREEMAIL_FROM(0.5)"}


def test_scan_command_takes_the_return_path_above_the_received_fields(mw_bin, rules_dir, tmp_path):
    config = tmp_path / "scan.yaml"
    config.write_text(f"hostname: mx.gw.test\nscan:\n  rules: [{rules_dir}]\n  inbound:\n    checks: {{rules: score}}\n")
    rcvd = b"Received: from a.example by mx.example; Sun, 06 Dec 2026 20:00:00 +0000\r\n"
    above = tmp_path / "above.eml"
    above.write_bytes(b"Return-Path: <joe7@gmail.com>\r\n" + rcvd + message(b"fm-above"))
    below = tmp_path / "below.eml"
    below.write_bytes(rcvd + b"Return-Path: <joe7@gmail.com>\r\n" + message(b"fm-below"))
    r = subprocess.run([mw_bin, "scan", "-c", str(config), "--json", str(above), str(below)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    hits = [sorted(s["symbol"] for s in json.loads(line)["symbols"]) for line in r.stdout.splitlines()]
    assert hits == [["FREEMAIL_ENVFROM_END_DIGIT", "FREEMAIL_FROM"], []]
