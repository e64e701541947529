"""SMTP smuggling (SEC-4): an end-of-data marker made of bare LF or bare CR
must never end the message early and so turn the rest of the text into a
second message. The gateway refuses bare CR/LF inside DATA; whatever it
accepts reaches the next hop as exactly one message."""

import pytest

import mwsys

SMUGGLED = ("MAIL FROM:<x@evil.test>\r\n"
            "RCPT TO:<victim@example.test>\r\n"
            "DATA\r\n"
            "smuggled\r\n"
            ".\r\n")

FAKE_ENDS = {
    "lf_dot_lf": "\n.\n",
    "lf_dot_crlf": "\n.\r\n",
    "crlf_dot_lf": "\r\n.\n",
    "cr_dot_crlf": "\r.\r\n",
    "crlf_dot_cr": "\r\n.\r",
}


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink)


def _read_all(c, timeout=5):
    """Every reply until the server closes (or is silent for timeout)."""
    replies = []
    c.sock.settimeout(timeout)
    try:
        while True:
            replies.append(c.reply())
    except (mwsys.Closed, OSError):
        pass
    return replies


def _control_message(gw, sink):
    """A normal message after the attempt: once it is at the sink, anything
    the attempt might have queued before it has had its chance too."""
    token = mwsys.unique("control")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@b.test", ["control@example.test"], f"Subject: {token}\r\n\r\nok\r\n")
    assert reply.code == 250, reply
    gw.wait_delivered(mwsys.queue_id(reply))
    sink.wait_token(token)


def _assert_nothing_smuggled(gw, sink, token, start, session):
    assert gw.events(start=start, event="queued", session=session) == [], \
        "the gateway queued a message from the smuggling session"
    _control_message(gw, sink)
    evil = [m for m in sink.messages if m.mail_from == "x@evil.test"
            or "victim@example.test" in m.rcpt_tos
            or (m.after_received() or m.data).startswith(b"smuggled")]
    assert evil == [], f"smuggled message reached the next hop: {evil}"
    assert sink.with_token(token) == [], "a message refused for bare CR/LF reached the next hop"


@pytest.mark.parametrize("fake_end", FAKE_ENDS.values(), ids=FAKE_ENDS.keys())
def test_smuggling_attempt_in_data_is_refused(gw, sink, fake_end):
    token = mwsys.unique("smuggle")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(f"Subject: {token}\r\n\r\nhello{fake_end}{SMUGGLED}QUIT\r\n")
        replies = _read_all(c)
        source = c.source
    assert replies, "no reply to the message"
    assert 500 <= replies[0].code < 600, f"message with bare CR/LF not refused: {replies}"
    assert not any(r.code == 354 or "queued" in r.text for r in replies), \
        f"the smuggled transaction was answered: {replies}"
    session = gw.wait_session_end(source, start=start)
    _assert_nothing_smuggled(gw, sink, token, start, session)


BARE = {
    "bare_lf_in_line": "one\ntwo\r\n",
    "bare_cr_in_line": "one\rtwo\r\n",
    "bare_lf_line_end": "one\ntwo\n",
    "bare_lf_in_header": "X-Test: a\nb\r\n",
    "cr_cr_lf": "one\r\r\n",
}


@pytest.mark.parametrize("text", BARE.values(), ids=BARE.keys())
def test_bare_line_ending_in_data_is_refused(gw, sink, text):
    token = mwsys.unique("bare")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(f"Subject: {token}\r\n\r\n{text}\r\n.\r\n")
        reply = c.reply()
        try:
            after = c.cmd("NOOP")
        except (mwsys.Closed, OSError):
            after = None
        source = c.source
    assert 500 <= reply.code < 600, reply
    # "a clear text": the reply says what was wrong.
    assert any(word in reply.text.lower() for word in ("bare", "line end", "newline", "terminat", "cr", "lf")), reply
    if reply.code not in (521, 550):
        assert after is not None and after.code == 250, "session closed without 521/550"
    session = gw.wait_session_end(source, start=start)
    _assert_nothing_smuggled(gw, sink, token, start, session)


BDAT_PAYLOADS = {
    "crlf_dot_crlf": "\r\n.\r\n",
    "lf_dot_lf": "\n.\n",
    "crlf_dot_lf": "\r\n.\n",
}


@pytest.mark.parametrize("fake_end", BDAT_PAYLOADS.values(), ids=BDAT_PAYLOADS.keys())
def test_end_marker_inside_bdat_never_splits_the_message(gw, sink, fake_end):
    """In BDAT a dot line is just text; if the gateway takes the chunk, the
    next hop must get one message that holds it, dot-stuffed on the way."""
    token = mwsys.unique("bdatsmuggle")
    start = gw.mark()
    chunk = f"Subject: {token}\r\n\r\nhello{fake_end}{SMUGGLED}".encode()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        c.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk)
        reply = c.reply()
        source = c.source
    if reply.code == 250:
        qid = mwsys.queue_id(reply)
        gw.wait_delivered(qid, start=start)
        msg = sink.wait_token(token)
        assert msg.mail_from == "a@b.test" and msg.rcpt_tos == ["user@example.test"]
        assert b"MAIL FROM:<x@evil.test>" in msg.data
        if fake_end == "\r\n.\r\n":
            assert msg.after_received() == chunk
    else:
        assert 500 <= reply.code < 600, reply
        session = gw.wait_session_end(source, start=start)
        assert gw.events(start=start, event="queued", session=session) == []
    _control_message(gw, sink)
    evil = [m for m in sink.messages if m.mail_from == "x@evil.test" or "victim@example.test" in m.rcpt_tos]
    assert evil == [], f"smuggled message reached the next hop: {evil}"


# Issue 18 item 2 (SEC-4): a NUL byte in the content is refused. A next hop
# that drops NULs would read "\0.\0" as a lone dot, i.e. see another end of
# data than we did. ("\r\0\n" is a bare CR and closes the session.)
NUL_PLACES = {
    "nul_in_line": b"one\0two\r\n",
    "nul_in_a_dot_line_before_smuggled_commands": b"hello\r\n\0.\0\r\n" + SMUGGLED.encode()[:-len(".\r\n")],
    "nul_at_line_start": b"\0\r\n",
    "nul_after_leading_dot": b".\0\r\n",
}


def _up_to_rcpt(c):
    """Greeting, EHLO, MAIL and one RCPT, each accepted."""
    c.greeting()
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@b.test>").code == 250
    assert c.cmd("RCPT TO:<user@example.test>").code == 250


@pytest.mark.parametrize("text", NUL_PLACES.values(), ids=NUL_PLACES.keys())
def test_nul_in_data_is_refused_with_554_and_the_session_goes_on(gw, sink, text):
    token = mwsys.unique("nuldata")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        _up_to_rcpt(c)
        assert c.cmd("DATA").code == 354
        c.send(f"Subject: {token}\r\n\r\n".encode() + text + b"\r\n.\r\n")
        reply = c.reply()
        after = c.cmd("NOOP")
        source = c.source
    assert reply.code == 554 and reply.enhanced == "5.6.0" and "NUL" in reply.text, reply
    assert after.code == 250, "the framing was intact: the session should go on"
    gw.wait_event(event="reject", reason="NUL in message content", start=start)
    session = gw.wait_session_end(source, start=start)
    _assert_nothing_smuggled(gw, sink, token, start, session)


@pytest.mark.parametrize("last_only", [True, False], ids=["one_chunk", "nul_in_first_of_two_chunks"])
def test_nul_in_bdat_is_refused_with_554_and_nothing_is_relayed(gw, sink, last_only):
    token = mwsys.unique("nulbdat")
    start = gw.mark()
    chunk = f"Subject: {token}\r\n\r\n".encode() + b"a\r\0\n.\r\0\nb\r\n"
    with mwsys.SmtpClient(gw.port) as c:
        _up_to_rcpt(c)
        if last_only:
            c.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk)
            replies = [c.reply()]
        else:
            c.send(f"BDAT {len(chunk)}\r\n".encode() + chunk)
            replies = [c.reply()]
            c.send(b"BDAT 5 LAST\r\nend\r\n")
            replies.append(c.reply())
        after = c.cmd("NOOP")
        source = c.source
    assert replies[0].code == 554 and replies[0].enhanced == "5.6.0", replies
    assert all(500 <= r.code < 600 for r in replies), replies
    assert after.code == 250
    session = gw.wait_session_end(source, start=start)
    assert gw.events(start=start, event="queued", session=session) == []
    _control_message(gw, sink)
    assert sink.with_token(token) == [], "a message with NUL reached the next hop"
