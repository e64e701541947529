"""The limits of one session: recipients per message, message size (at MAIL
with SIZE= and again at the end of DATA/BDAT), errors per session and
connections per client address."""

import pytest

import mwsys

RECIPIENTS = 5
ERRORS = 5
PER_IP = 3
SIZE_LIMIT = 100 * 1024  # message_size: 100k (binary); 100000 if decimal


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink, limits={
        "recipients": RECIPIENTS, "message_size": "100k", "errors": ERRORS,
        "connections_per_ip": PER_IP})


def _session(gw, source=None):
    c = mwsys.SmtpClient(gw.port, source=source)
    assert c.greeting().code == 220
    assert c.ehlo().code == 250
    return c


def test_recipient_past_limit_gets_452_and_message_goes_to_the_others(gw, sink):
    token = mwsys.unique("rcpts")
    rcpts = [f"r{i}@example.test" for i in range(RECIPIENTS + 2)]
    with _session(gw) as c:
        c.send("MAIL FROM:<a@b.test>\r\n" + "".join(f"RCPT TO:<{r}>\r\n" for r in rcpts))
        replies = c.replies(1 + len(rcpts))
        assert [r.code for r in replies] == [250] * (1 + RECIPIENTS) + [452] * 2, replies
        assert replies[-1].enhanced == "4.5.3", replies[-1]
        final = c.data(f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert final.code == 250, final

    def delivered():
        got = sorted(r for m in sink.with_token(token) for r in m.rcpt_tos)
        return got if len(got) >= RECIPIENTS else None

    assert mwsys.wait_until(delivered, what="message at the sink") == sorted(rcpts[:RECIPIENTS])


SIZES = {
    "twice_the_limit": ("200000", (552,)),
    "just_over_binary_limit": (str(SIZE_LIMIT + 1), (552,)),
    # Must not wrap around to a small number; a syntax error is fine too.
    "overflowing_number": ("99999999999999999999999999", (552, 501)),
}


@pytest.mark.parametrize("size,codes", SIZES.values(), ids=SIZES.keys())
def test_mail_with_size_over_limit_is_refused(gw, size, codes):
    with _session(gw) as c:
        reply = c.cmd(f"MAIL FROM:<a@b.test> SIZE={size}")
        after = c.cmd("RCPT TO:<u@example.test>")
    assert reply.code in codes, reply
    if reply.code == 552:
        assert reply.enhanced == "5.3.4", reply
    assert after.code == 503, "RCPT accepted after MAIL was refused"


def test_mail_with_size_under_limit_is_accepted(gw):
    with _session(gw) as c:
        reply = c.cmd("MAIL FROM:<a@b.test> SIZE=1000")
    assert reply.code == 250, reply


def _big_body(token, size):
    line = ("y" * 98 + "\r\n").encode()
    return f"Subject: {token}\r\n\r\n".encode() + line * (size // len(line) + 1)


@pytest.mark.parametrize("declared", [None, "1000"], ids=["no_size", "lying_size"])
def test_message_too_large_in_data_gets_552(gw, sink, declared):
    token = mwsys.unique("big")
    start = gw.mark()
    with _session(gw) as c:
        size_param = f" SIZE={declared}" if declared else ""
        assert c.cmd(f"MAIL FROM:<a@b.test>{size_param}").code == 250
        assert c.cmd("RCPT TO:<u@example.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(_big_body(token, 150 * 1024) + b".\r\n")
        reply = c.reply()
        source = c.source
    assert reply.code == 552 and reply.enhanced == "5.3.4", reply
    session = gw.wait_session_end(source, start=start)
    assert gw.events(start=start, event="queued", session=session) == []
    assert sink.with_token(token) == []


def test_message_too_large_in_bdat_gets_552(gw, sink):
    token = mwsys.unique("bigbdat")
    start = gw.mark()
    body = _big_body(token, 150 * 1024)
    with _session(gw) as c:
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<u@example.test>").code == 250
        half = len(body) // 2
        c.send(f"BDAT {half}\r\n".encode() + body[:half])
        first = c.reply()
        if first.code == 250:
            c.send(f"BDAT {len(body) - half} LAST\r\n".encode() + body[half:])
            reply = c.reply()
        else:
            reply = first
        source = c.source
    assert reply.code == 552 and reply.enhanced == "5.3.4", reply
    session = gw.wait_session_end(source, start=start)
    assert gw.events(start=start, event="queued", session=session) == []


def test_message_just_under_limit_is_accepted(gw, sink):
    token = mwsys.unique("fits")
    with _session(gw) as c:
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<u@example.test>").code == 250
        reply = c.data(_big_body(token, 60 * 1024))
    assert reply.code == 250, reply
    sink.wait_token(token)


@pytest.mark.parametrize("bad", ["FOO", "RCPT TO:<u@example.test>", "MAIL FROM:<not an address"],
                         ids=["unknown_command", "out_of_order", "syntax_error"])
def test_too_many_errors_close_session_with_421(gw, bad):
    start = gw.mark()
    with _session(gw) as c:
        replies = []
        for _ in range(ERRORS + 3):
            reply = c.cmd(bad)
            replies.append(reply)
            if reply.code == 421:
                break
        assert replies[-1].code == 421, replies
        assert replies[-1].enhanced is not None and replies[-1].enhanced.startswith("4."), replies[-1]
        assert ERRORS - 1 <= len(replies) - 1 <= ERRORS + 1, \
            f"421 after {len(replies) - 1} errors, limit is {ERRORS}"
        assert all(500 <= r.code < 600 for r in replies[:-1]), replies
        assert c.at_eof(timeout=5), "session still open after 421"
        source = c.source
    gw.wait_session_end(source, start=start)


def test_connections_over_per_ip_limit_get_421(gw):
    source = mwsys.ADDRESSES.get()
    start = gw.mark()
    clients = []
    try:
        for _ in range(PER_IP):
            c = mwsys.SmtpClient(gw.port, source=source)
            clients.append(c)
            assert c.greeting().code == 220
        with mwsys.SmtpClient(gw.port, source=source) as extra:
            reply = extra.reply()
            assert reply.code == 421 and reply.enhanced == "4.7.0", reply
            assert extra.at_eof(timeout=5)
        # Another address is not affected.
        with mwsys.SmtpClient(gw.port) as other:
            assert other.greeting().code == 220
        # A slot that becomes free can be used again.
        first_session = gw.session_of(source, start=start)
        clients[0].cmd("QUIT")
        clients[0].close()
        gw.wait_event(proc="smtpd", event="disconnect", session=first_session, start=start)
        with mwsys.SmtpClient(gw.port, source=source) as again:
            assert again.greeting().code == 220
    finally:
        for c in clients:
            c.close()
