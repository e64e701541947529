"""The scanner process (issue 10; SCAN-1, SCAN-5, SEC-1): content checks on
a sealed copy of each message, their symbols combined with smtpd's by the
queue, a deadline on the scanner's answer, and fail-closed behaviour when
it does not come (451), unless the configuration says to accept unscanned
mail, which is then marked as such.

The check used is "headers" (HEADER_MISSING_DATE, HEADER_MISSING_MESSAGE_ID):
a message without Date and Message-ID scores 2 x 3 inbound; outbound
(127.0.0.10, trusted) it is refused at the final dot."""

import os
import signal

import pytest

import mwsys

TRUSTED = "127.0.0.10"
BARE = b"Subject: %s\r\n\r\nno date, no message-id\r\n"
PROPER = (b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\n"
          b"Subject: %s\r\n\r\nall there\r\n")

SCAN = {"scanner_timeout_ms": 1500,
        "inbound": {"checks": {"headers": {"action": "score", "points": 3}}, "tag": 3,
                    "subject_prefix": "[SPAM]"},
        "outbound": {"checks": {"headers": {"action": "refuse", "reply": "550 5.6.0 Date and Message-ID please"}}}}


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink, scan=SCAN)


def send(gw, source, body, rcpt="user@example.test"):
    with mwsys.SmtpClient(gw.port, source=source) as c:
        assert c.greeting().code == 220
        assert c.ehlo().code == 250
        return c.transaction("a@client.test", [rcpt], body)


def test_content_symbols_reach_the_queue_s_verdict(gw, sink):
    start = gw.mark()
    final = send(gw, mwsys.ADDRESSES.get(), BARE % b"content-tag")
    assert final.code == 250
    qid = mwsys.queue_id(final)
    # The scanner sees the envelope the queue checked, beside the message.
    gw.wait_event(start=start, proc="scanner", event="content_scanned", queue_id=qid,
                  symbols="HEADER_MISSING_DATE(3),HEADER_MISSING_MESSAGE_ID(3)",
                  nrcpt="1", auth="-", smtp_symbols="0", **{"from": "a@client.test"})
    gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=qid, score="6", action="tag")
    msg = sink.wait_token("content-tag").data
    assert b"X-Spam-Flag: YES\r\nX-Spam-Score: 6\r\n" in msg
    assert b"tests=HEADER_MISSING_DATE(3),HEADER_MISSING_MESSAGE_ID(3)" in msg
    assert b"\r\nSubject: [SPAM] content-tag\r\n" in msg


def test_a_proper_message_passes_the_content_check_untouched(gw, sink):
    final = send(gw, mwsys.ADDRESSES.get(), PROPER % (b"proper", b"content-proper"))
    assert final.code == 250
    msg = sink.wait_token("content-proper").data
    assert b"X-Spam" not in msg


def test_a_refusing_content_check_refuses_at_the_final_dot(gw):
    start = gw.mark()
    final = send(gw, TRUSTED, BARE % b"content-refuse", rcpt="user@elsewhere.test")
    assert final.code == 550
    assert final.text == "5.6.0 Date and Message-ID please"
    gw.wait_event(start=start, proc="queue", event="scan_verdict", direction="outbound", action="refuse")


class Stopped:
    """The scanner process held with SIGSTOP (a hung scanner) until the end."""

    def __init__(self, gw):
        self.pid = gw.pid("scanner")

    def __enter__(self):
        os.kill(self.pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        os.kill(self.pid, signal.SIGCONT)


def test_a_scanner_slower_than_the_deadline_gets_451_not_250(gw, sink):
    start = gw.mark()
    with Stopped(gw):
        final = send(gw, mwsys.ADDRESSES.get(), BARE % b"content-slow")
        assert final.code == 451, final
        gw.wait_event(start=start, proc="queue", event="scan_failed", action="tempfail")
    # The late answer of the woken scanner changes nothing; the retry passes.
    final = send(gw, mwsys.ADDRESSES.get(), BARE % b"content-slow")
    assert final.code == 250
    gw.wait_delivered(mwsys.queue_id(final))
    assert len(sink.with_token("content-slow")) == 1


def test_a_scanner_killed_mid_scan_is_restarted_alone_and_nothing_is_lost(gw, sink):
    queue, smtpd, scanner = gw.pid("queue"), gw.pid("smtpd"), gw.pid("scanner")
    start = gw.mark()
    os.kill(scanner, signal.SIGSTOP)
    c = mwsys.SmtpClient(gw.port, source=mwsys.ADDRESSES.get())
    try:
        assert c.greeting().code == 220 and c.ehlo().code == 250
        assert c.cmd("MAIL FROM:<a@client.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(BARE % b"content-killed" + b".\r\n")
        gw.wait_event(start=start, proc="queue", event="scan_sent")
        os.kill(scanner, signal.SIGKILL)
        final = c.reply()
    finally:
        c.close()
    assert final.code == 451, final  # never a 250 for an unscanned message
    gw.wait_event(start=start, proc="master", event="spawned", child="scanner")
    gw.wait_event(start=start, proc="queue", event="scanner_connected")
    assert gw.pid("scanner") != scanner
    assert (gw.pid("queue"), gw.pid("smtpd")) == (queue, smtpd)
    final = send(gw, mwsys.ADDRESSES.get(), BARE % b"content-killed")
    assert final.code == 250
    sink.wait_token("content-killed")


@pytest.fixture(scope="module")
def gw_open(make_gateway, sink):
    return make_gateway(sink=sink, scan=dict(SCAN, scanner_failure="accept"))


def test_fail_open_accepts_unscanned_mail_and_says_so(gw_open, sink):
    start = gw_open.mark()
    with Stopped(gw_open):
        final = send(gw_open, mwsys.ADDRESSES.get(), BARE % b"content-open")
        assert final.code == 250
    gw_open.wait_event(start=start, proc="queue", event="scan_failed", action="accept_unscanned")
    msg = sink.wait_token("content-open").data
    assert b"X-Mailwarden-Scan: not scanned (the scanner did not answer in time)\r\n" in msg


@pytest.mark.skipif(not mwsys.is_root(), reason="privilege separation needs root")
def test_scanner_runs_as_its_own_user_in_the_empty_chroot(gw):
    pid = gw.pid("scanner")
    uid, _ = mwsys.user_ids("mailwarden-scan")
    status = mwsys.proc_status(pid)
    assert [int(x) for x in status["Uid"].split()] == [uid] * 4
    assert os.readlink(f"/proc/{pid}/root") == os.path.realpath(gw.path("empty"))
