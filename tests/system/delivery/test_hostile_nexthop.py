"""A hostile or broken next hop (issue 18 item 7, SEC-4): a reply line that
is not clean CRLF-terminated printable text (a NUL, a bare LF, an invalid
byte) is malformed. The delivery is deferred: never taken as success (the
text after a NUL might say otherwise) and never bounced on. The peer is
written on raw sockets (peers.RawPeer) so that it can send any bytes."""

import pytest

import mwsys
from peers import send

SENDER = "sender@other.test"


@pytest.fixture(scope="module")
def gw(make_gateway, raw, bounces):
    # No retry within a test: each message meets exactly one script.
    return make_gateway(sink=bounces, routes={"hostile.test": raw.url, "other.test": bounces.url},
                        local_domains=["hostile.test", "other.test"],
                        queue={"retry_min": "1h", "retry_max": "2h", "lifetime": "1d"})


def _first_try(gw, raw, script):
    """Send one message while the peer follows script; its token, queue id
    and the log event of its first delivery attempt."""
    token = mwsys.unique("hostile")
    start = gw.mark()
    raw.script = script
    try:
        qid = send(gw, SENDER, ["user@hostile.test"], f"Subject: {token}\r\n\r\nbody\r\n")
        return token, qid, gw.wait_event(proc="queue", event="delivery", queue_id=qid, start=start)
    finally:
        raw.script = {}


MALFORMED = {
    "nul_in_success_after_data": ("DOT", b"250 2.0.0 Ok\x00 but 554 refused\r\n"),
    "nul_in_refusal_after_data": ("DOT", b"554 5.7.1 no\x00 250 ok\r\n"),
    "bare_lf_after_data": ("DOT", b"250 2.0.0 Ok\n"),
    "invalid_bytes_after_data": ("DOT", b"250 2.0.0 Ok \xff\xfe\r\n"),
    "bare_cr_inside_reply": ("DOT", b"250 2.0.0 Ok\r550 no\r\n"),
    "bare_lf_in_rcpt_refusal": ("RCPT", b"550 5.1.1 nobody here\n"),
    "nul_in_rcpt_refusal": ("RCPT", b"550 5.1.1 \x00nobody\r\n"),
    "nul_in_greeting": ("GREETING", b"220 raw.test\x00 ready\r\n"),
    "bare_lf_in_ehlo_continuation": ("EHLO", b"250-raw.test\n250 PIPELINING\r\n"),
}


@pytest.mark.parametrize("where,reply", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_reply_defers_and_never_delivers_or_bounces(gw, raw, bounces, where, reply):
    start = gw.mark()
    token, qid, ev = _first_try(gw, raw, {where: reply})
    assert ev["status"] == "deferred", ev
    assert "malformed reply" in ev.get("reply", ""), ev
    assert ev["reply"].startswith("451 4.4.2"), ev
    assert gw.events(proc="queue", event="dsn_queued", about=qid, start=start) == []
    assert bounces.with_token(token) == []


def test_clean_reply_with_utf8_text_is_still_taken(gw, raw):
    """The check is not over-strict: well-formed UTF-8 (RFC 6531) passes,
    and the log keeps it as it is."""
    _, _, ev = _first_try(gw, raw, {"DOT": "250 2.0.0 Ok, grüße\r\n".encode()})
    assert ev["status"] == "sent", ev
    assert "grüße" in ev["reply"], ev
