"""The SMTP dialogue itself: greeting, EHLO capabilities, pipelining, the
small commands (HELP, NOOP, RSET, QUIT, VRFY, EXPN) and how the gateway
answers commands that are unknown, out of order, overlong or hold NUL."""

import pytest

import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink)


def _session(gw):
    c = mwsys.SmtpClient(gw.port)
    assert c.greeting().code == 220
    assert c.ehlo().code == 250
    return c


def test_greeting_names_hostname(gw):
    with mwsys.SmtpClient(gw.port) as c:
        reply = c.greeting()
    assert reply.code == 220
    assert reply.lines[-1].startswith("mx.gw.test ESMTP mailwarden"), reply


def test_ehlo_first_line_names_hostname(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        reply = c.ehlo("client.test")
    assert reply.code == 250
    assert reply.lines[0].split()[0] == "mx.gw.test", reply


CAPABILITIES = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "HELP"]


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_ehlo_advertises(gw, capability):
    with _session(gw) as c:
        reply = c.cmd("EHLO client.test")
    keywords = [line.split()[0].upper() for line in reply.lines[1:] if line.strip()]
    assert capability in keywords, reply


def test_ehlo_advertises_size_of_message_limit(gw):
    with _session(gw) as c:
        reply = c.cmd("EHLO client.test")
    sizes = [line.split() for line in reply.lines[1:] if line.upper().startswith("SIZE")]
    assert len(sizes) == 1, reply
    # message_size: 1M (binary or decimal megabyte)
    assert len(sizes[0]) == 2 and sizes[0][1] in ("1048576", "1000000"), reply


def test_helo_gets_plain_250(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        reply = c.cmd("HELO client.test")
    assert reply.code == 250 and len(reply.lines) == 1, reply


def test_replies_carry_enhanced_status_codes(gw):
    with _session(gw) as c:
        replies = [c.cmd("MAIL FROM:<a@b.test>"), c.cmd("RCPT TO:<u@example.test>"),
                   c.cmd("RSET"), c.cmd("NOOP"), c.cmd("RCPT TO:<u@example.test>"),
                   c.cmd("RCPT TO:<u@remote.test>"), c.cmd("FOO")]
    for reply in replies:
        # RFC 2034: the class of the enhanced code is the reply's first digit.
        assert reply.enhanced is not None and reply.enhanced[0] == str(reply.code)[0], reply


def test_pipelined_transaction_replies_in_order(gw, sink):
    token = mwsys.unique("pipe")
    with _session(gw) as c:
        c.send("MAIL FROM:<a@b.test>\r\n"
               "RCPT TO:<first@example.test>\r\n"
               "RCPT TO:<someone@remote.test>\r\n"
               "RCPT TO:<second@example.test>\r\n"
               "DATA\r\n")
        replies = c.replies(5)
        assert [r.code for r in replies] == [250, 250, 554, 250, 354], replies
        assert replies[2].enhanced == "5.7.1" and "Relay access denied" in replies[2].text
        c.send(f"Subject: {token}\r\n\r\npipelined\r\n.\r\nQUIT\r\n")
        final, bye = c.replies(2)
        assert final.code == 250 and "queued as" in final.text, final
        assert bye.code == 221

    def delivered():
        got = sorted(r for m in sink.with_token(token) for r in m.rcpt_tos)
        return got if len(got) >= 2 else None

    assert mwsys.wait_until(delivered, what="pipelined message at the sink") == \
        ["first@example.test", "second@example.test"]


def test_pipelined_transaction_in_one_write(gw, sink):
    """RFC 2920: MAIL, RCPT and DATA in one write after the EHLO reply
    (EHLO itself ends a group, and the greeting must be awaited: see
    test_smtp_pipelining_sync.py)."""
    token = mwsys.unique("pipe1")
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        assert c.ehlo().code == 250
        c.send("MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n")
        replies = c.replies(3)
        assert [r.code for r in replies] == [250, 250, 354], replies
        c.send(f"Subject: {token}\r\n\r\nx\r\n.\r\nQUIT\r\n")
        assert [r.code for r in c.replies(2)] == [250, 221]
    sink.wait_token(token)


VRFY_ARGS = ["postmaster", "root", "user@example.test", "nosuchuser@example.test", "<user@other.test>"]


@pytest.mark.parametrize("arg", VRFY_ARGS)
def test_vrfy_answers_252_without_disclosure(gw, arg):
    with _session(gw) as c:
        reply = c.cmd(f"VRFY {arg}")
        reference = c.cmd("VRFY nosuchuser-at-all")
    assert reply.code == 252, reply
    # The same answer whatever is asked (an echo of the argument aside):
    # nothing to learn from it.
    def neutral(r, asked):
        return r.text.replace(asked, "ARG").replace(asked.strip("<>"), "ARG")
    assert neutral(reply, arg) == neutral(reference, "nosuchuser-at-all")


@pytest.mark.parametrize("arg", ["postmaster", "staff", "all@example.test"])
def test_expn_answers_502(gw, arg):
    with _session(gw) as c:
        reply = c.cmd(f"EXPN {arg}")
        after = c.cmd("NOOP")
    assert reply.code == 502, reply
    assert after.code == 250


def test_help_answers_214(gw):
    with _session(gw) as c:
        reply = c.cmd("HELP")
        after = c.cmd("NOOP")
    assert reply.code in (211, 214), reply
    assert after.code == 250


def test_noop_answers_250(gw):
    with _session(gw) as c:
        reply = c.cmd("NOOP")
    assert reply.code == 250 and reply.enhanced == "2.0.0", reply


def test_rset_clears_transaction(gw):
    with _session(gw) as c:
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<u@example.test>").code == 250
        assert c.cmd("RSET").code == 250
        after_rcpt = c.cmd("RCPT TO:<u@example.test>")
        after_data = c.cmd("DATA")
        before_rset = c.cmd("MAIL FROM:<a@b.test>")
        assert c.cmd("RSET").code == 250
        again = c.cmd("MAIL FROM:<a@b.test>")
    assert after_rcpt.code == 503, after_rcpt
    assert after_data.code in (503, 554), after_data
    # After a refused DATA, MAIL only after RSET (issue 18 item 1):
    # the client may be sending its content as commands.
    assert before_rset.code == 503, before_rset
    assert again.code == 250, again


def test_quit_answers_221_and_closes(gw):
    start = gw.mark()
    with _session(gw) as c:
        reply = c.cmd("QUIT")
        assert reply.code == 221, reply
        assert c.at_eof(timeout=5), "connection still open after QUIT"
    gw.wait_session_end(c.source, start=start)


@pytest.mark.parametrize("line", ["FOO", "MAILFROM:<a@b.test>", "HELLO client.test", "X" * 40],
                         ids=["foo", "mailfrom_glued", "hello", "long_word"])
def test_unknown_command_is_refused_and_session_continues(gw, line):
    with _session(gw) as c:
        reply = c.cmd(line)
        after = c.cmd("NOOP")
    assert reply.code in (500, 502), reply
    assert reply.enhanced in ("5.5.1", "5.5.2"), reply
    assert after.code == 250


OUT_OF_ORDER = {
    "rcpt_before_mail": (["RCPT TO:<u@example.test>"], (503,)),
    "data_before_mail": (["DATA"], (503,)),
    "data_before_rcpt": (["MAIL FROM:<a@b.test>", "DATA"], (503, 554)),
    "nested_mail": (["MAIL FROM:<a@b.test>", "MAIL FROM:<c@d.test>"], (503,)),
    "bdat_before_rcpt": (["MAIL FROM:<a@b.test>", "BDAT 0 LAST"], (503, 554)),
}


@pytest.mark.parametrize("commands,codes", OUT_OF_ORDER.values(), ids=OUT_OF_ORDER.keys())
def test_command_out_of_order_gets_503(gw, sink, commands, codes):
    with _session(gw) as c:
        replies = [c.cmd(line) for line in commands]
        after = c.cmd("NOOP")
    assert all(r.code == 250 for r in replies[:-1]), replies
    assert replies[-1].code in codes, replies[-1]
    assert replies[-1].enhanced is not None and replies[-1].enhanced.startswith("5."), replies[-1]
    assert after.code == 250


@pytest.mark.parametrize("length", [2100, 10000, 200000])
def test_overlong_command_line_gets_500_and_session_continues(gw, length):
    with _session(gw) as c:
        reply = c.cmd("NOOP " + "x" * length)
        after = c.cmd("NOOP")
        mail = c.cmd("MAIL FROM:<a@b.test>")
    assert reply.code == 500 and reply.enhanced == "5.5.2", reply
    assert after.code == 250, after
    assert mail.code == 250, mail


def test_overlong_rcpt_line_is_not_taken_as_a_command(gw):
    with _session(gw) as c:
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        # The tail past the limit must not be parsed as a command of its own.
        reply = c.cmd("RCPT TO:<" + "a" * 3000 + "@example.test>" + "QUIT")
        after = c.cmd("NOOP")
    assert reply.code == 500 and reply.enhanced == "5.5.2", reply
    assert after.code == 250, after


NUL_LINES = {
    "noop": b"NOOP\x00\r\n",
    "mail_from": b"MAIL FROM:<a\x00b@b.test>\r\n",
    "helo": b"HELO client\x00.test\r\n",
    "leading": b"\x00NOOP\r\n",
}


@pytest.mark.parametrize("line", NUL_LINES.values(), ids=NUL_LINES.keys())
def test_nul_in_command_is_refused(gw, line):
    with _session(gw) as c:
        c.send(line)
        reply = c.reply()
        assert 500 <= reply.code < 600, reply
        assert reply.enhanced is not None and reply.enhanced.startswith("5."), reply
        # Either the session goes on (and no transaction was started by
        # the refused line), or the gateway said goodbye.
        try:
            after = c.cmd("RCPT TO:<u@example.test>")
        except mwsys.Closed:
            return
    assert after.code in (503, 421), after


def test_nul_in_message_text_does_not_break_the_session(gw, sink):
    token = mwsys.unique("nul")
    with _session(gw) as c:
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<u@example.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(f"Subject: {token}\r\n\r\nnul here:\x00:end\r\n.\r\n")
        reply = c.reply()
        after = c.cmd("NOOP")
    # Refusing it or passing it on are both fine; breaking the dialogue is not.
    assert reply.code in (250, 550, 554), reply
    assert after.code == 250, after
    if reply.code == 250:
        sink.wait_token(token)
