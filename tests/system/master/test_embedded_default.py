"""The embedded default scans (issue 11): `make run` is `mailwarden serve
-f` without a configuration file, and it starts with content scanning on,
with Debian's spamassassin rules when they are installed, else
mailwarden's built-in set (rules/mailwarden-base.cf), and says which. A
newcomer's test message gets an Authentication-Results header, and the
GTUBE test message X-Spam headers as well (tagged, not held: mail from
this machine is outbound). The demo listens on the fixed ports
2525/2587/2465: the test is skipped when one is taken."""

import glob
import os
import socket

import pytest

import mwsys

GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HEAD = b"Date: Mon, 07 Dec 2026 02:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\nSubject: %s\r\n\r\n"


def ports_free(ports):
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


@pytest.fixture
def demo(mw_bin):
    if not ports_free((2525, 2587, 2465)):
        pytest.skip("the demo's ports 2525/2587/2465 are in use")
    workdir = mwsys.make_workdir("default")
    gw = mwsys.Gateway(mw_bin, workdir, None, name="embedded-default")
    try:
        yield gw.start()
    finally:
        gw.cleanup()
        gw.raise_problems()
        mwsys.rmtree(workdir)


def delivered(gw, token):
    files = glob.glob(gw.path("maildir", "example.test", "new", "*"))
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        if b"<" + token + b"@client.test>" in data:
            return data
    return None


def test_the_demo_scans_with_the_rules_it_names_and_tags_gtube(demo):
    chosen = demo.wait_event(proc="master", event="default_rules")
    if os.path.isdir("/usr/share/spamassassin"):
        assert chosen["rules"] == "/usr/share/spamassassin", chosen
    else:
        assert chosen["rules"].endswith("/rules/mailwarden-base.cf"), chosen
    demo.wait_event(proc="scanner", event="rules_loaded")
    # At once, also with an empty cache: the Hyperscan databases are
    # compiled beside it (master/rules_compiler.c), PCRE2 serves meanwhile.
    demo.wait_event(proc="scanner", event="queue_connected")
    for token, body in ((b"plain", b"Hello, this is a test."), (b"gtube", GTUBE)):
        final = mwsys.send_message(demo, HEAD % (token, token) + body + b"\r\n", source="127.0.0.1",
                                   sender="you@example.org")
        assert final.code == 250, final
    mwsys.wait_until(lambda: delivered(demo, b"plain") and delivered(demo, b"gtube"), what="both in the maildir")
    plain, gtube = delivered(demo, b"plain"), delivered(demo, b"gtube")
    for data in (plain, gtube):
        assert b"\nAuthentication-Results: " in data
    assert b"X-Spam-" not in plain
    assert b"\nX-Spam-Flag: YES\r\n" in gtube or b"\nX-Spam-Flag: YES\n" in gtube
    assert b"GTUBE(1000)" in gtube
    v = demo.wait_event(proc="queue", event="scan_verdict", action="tag")
    assert v["direction"] == "outbound"


BUILTIN = os.path.join(os.path.dirname(__file__), "..", "..", "..", "rules", "mailwarden-base.cf")


def test_the_built_in_rules_tag_an_obvious_spam_and_leave_a_plain_message(make_gateway_fn, make_sink_fn):
    """What the demo scans with on a machine without spamassassin."""
    sink = make_sink_fn()
    gw = make_gateway_fn(sink=sink, scan={"rules": [os.path.abspath(BUILTIN)],
                                          "inbound": {"checks": {"rules": "score"}, "tag": 5}})
    start = gw.mark()
    spam = (HEAD % (b"spam", b"FREE MONEY FOR YOU")
            + b"Act now: you have won! Click here: http://192.0.2.7/claim\r\n")
    ham = HEAD % (b"ham", b"Minutes of Tuesday's meeting") + b"Hi all, the minutes are attached. Bob\r\n"
    for body in (spam, ham):
        assert mwsys.send_message(gw, body).code == 250
    v = gw.wait_event(start=start, proc="queue", event="scan_verdict", action="tag")
    assert v["symbols"] == ("MW_SUBJ_SHOUTING(1.5),MW_FREE_MONEY(2),MW_ACT_NOW(1.5),MW_CLICK_HERE(0.5),"
                            "MW_PRIZE_WON(3),MW_PUSHY(1.5),MW_URI_NUMERIC(2)"), v
    v = gw.wait_event(start=start, proc="queue", event="scan_verdict", action="accept")
    assert v["symbols"] == "none", v
    assert b"X-Spam-Flag: YES" in sink.wait_token("FREE MONEY").data
