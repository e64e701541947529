"""A message sent to the gateway reaches the next hop unchanged, apart from
the Received: header the gateway puts on top: with smtplib, with swaks,
with lines that need dot-stuffing, with BDAT chunks and with 8-bit text."""

import smtplib
import subprocess

import pytest

import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink)


def _arrived(sink, token):
    """The message carrying token, without the gateway's Received header."""
    msg = sink.wait_token(token)
    assert msg.data.startswith(b"Received: from "), \
        f"first line is not the gateway's Received header: {msg.data[:120]!r}"
    rest = msg.after_received()
    assert rest is not None, f"unterminated Received header: {msg.data[:300]!r}"
    return msg, rest


BODIES = {
    "plain": "Hello,\r\n\r\nthis is a test.\r\n",
    "dot_lines": ".\r\n..\r\n.leading dot\r\n..two dots\r\n. space\r\nend\r\n",
    "empty_lines": "\r\n\r\n\r\nafter three empty lines\r\n\r\n",
    "long_line_998": "x" * 998 + "\r\n",
    "whitespace": "trailing spaces   \r\n\ttab first\r\n \r\n",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_smtplib_message_arrives_byte_identical(gw, sink, body):
    token = mwsys.unique("smtplib")
    message = (f"From: a@b.test\r\nTo: user@example.test\r\nSubject: {token}\r\n"
               f"Message-ID: <{token}@b.test>\r\n\r\n{body}").encode()
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.test", timeout=mwsys.REPLY_TIMEOUT) as client:
        refused = client.sendmail("a@b.test", ["user@example.test"], message)
    assert refused == {}
    msg, rest = _arrived(sink, token)
    assert rest == message
    assert msg.mail_from == "a@b.test"
    assert msg.rcpt_tos == ["user@example.test"]


DOT_LINES = {
    "lone_dot": (b"..\r\n", b".\r\n"),
    "two_dots": (b"...\r\n", b"..\r\n"),
    "dot_word": (b"..signature\r\n", b".signature\r\n"),
    "dot_space": (b".. \r\n", b". \r\n"),
    "dot_crlf_dot": (b"..\r\n..\r\n", b".\r\n.\r\n"),
}


@pytest.mark.parametrize("sent,meant", DOT_LINES.values(), ids=DOT_LINES.keys())
def test_dot_stuffed_lines_arrive_unstuffed(gw, sink, sent, meant):
    """Written by hand on the wire (RFC 5321 4.5.2), not by smtplib."""
    token = mwsys.unique("dots")
    head = f"Subject: {token}\r\n\r\nbefore\r\n".encode()
    tail = b"after\r\n"
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@b.test", ["user@example.test"], head + sent + tail)
    assert reply.code == 250, reply
    msg, rest = _arrived(sink, token)
    assert rest == head + meant + tail


def _swaks_sent_data(transcript):
    """The DATA swaks sent, rebuilt from its transcript (' -> ' lines between
    the 354 and the lone dot), dot-unstuffed, with CRLF line ends."""
    lines = transcript.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("<-  354"))
    data = []
    for line in lines[start + 1:]:
        assert line.startswith(" -> "), f"unexpected transcript line {line!r}"
        text = line[4:]
        if text == ".":
            break
        data.append(text[1:] if text.startswith(".") else text)
    return ("\r\n".join(data) + "\r\n").encode()


@pytest.mark.parametrize("body", ["swaks body line\n.dot line\nlast", "single line"],
                         ids=["multiline", "single_line"])
def test_swaks_message_arrives_byte_identical(gw, sink, body):
    token = mwsys.unique("swaks")
    result = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{gw.port}", "--to", "user@example.test",
         "--from", "a@b.test", "--helo", "client.test", "--timeout", "10",
         "--header", f"Subject: {token}", "--body", body],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "queued as" in result.stdout
    sent = _swaks_sent_data(result.stdout)
    msg, rest = _arrived(sink, token)
    assert rest == sent
    assert msg.rcpt_tos == ["user@example.test"]


def test_reply_after_data_names_queue_id_seen_in_log(gw, sink):
    token = mwsys.unique("qid")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        assert c.ehlo().code == 250
        reply = c.transaction("a@b.test", ["user@example.test"], f"Subject: {token}\r\n\r\nx\r\n")
    assert reply.code == 250 and reply.enhanced == "2.0.0", reply
    qid = mwsys.queue_id(reply)
    gw.wait_event(proc="smtpd", event="queued", queue_id=qid, start=start)
    gw.wait_event(proc="queue", event="committed", queue_id=qid, start=start)
    gw.wait_delivered(qid, to="user@example.test", start=start)
    sink.wait_token(token)


# BDAT (RFC 3030): the chunks are the message, octet for octet, no dot-stuffing.
CHUNKINGS = {
    "one_chunk_last": [b"Subject: {t}\r\n\r\nbody\r\n"],
    "two_chunks": [b"Subject: {t}\r\n\r\nfirst ", b"half\r\nsecond line\r\n"],
    "split_inside_crlf": [b"Subject: {t}\r\n\r\nline one\r", b"\nline two\r\n"],
    "dot_lines_unstuffed": [b"Subject: {t}\r\n\r\n.\r\n..\r\n", b".dot\r\n"],
    "last_chunk_empty": [b"Subject: {t}\r\n\r\nbody\r\n", b""],
}


@pytest.mark.parametrize("pipelined", [False, True], ids=["lockstep", "pipelined"])
@pytest.mark.parametrize("chunks", CHUNKINGS.values(), ids=CHUNKINGS.keys())
def test_bdat_message_arrives(gw, sink, chunks, pipelined):
    token = mwsys.unique("bdat")
    chunks = [c.replace(b"{t}", token.encode()) for c in chunks]
    commands = []
    for i, chunk in enumerate(chunks):
        last = " LAST" if i == len(chunks) - 1 else ""
        commands.append(f"BDAT {len(chunk)}{last}\r\n".encode() + chunk)
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        assert "CHUNKING" in c.ehlo().lines
        if pipelined:
            c.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<user@example.test>\r\n" + b"".join(commands))
            replies = c.replies(2 + len(chunks))
        else:
            replies = [c.cmd("MAIL FROM:<a@b.test>"), c.cmd("RCPT TO:<user@example.test>")]
            for command in commands:
                c.send(command)
                replies.append(c.reply())
        assert [r.code for r in replies] == [250] * len(replies), replies
        assert "queued as" in replies[-1].text
        assert c.cmd("QUIT").code == 221
    msg, rest = _arrived(sink, token)
    assert rest == b"".join(chunks)


def test_8bit_body_with_body_8bitmime_arrives(gw, sink):
    token = mwsys.unique("8bit")
    message = (f"Subject: {token}\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln, ½ € \u00ff\r\n").encode()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test> BODY=8BITMIME").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        reply = c.data(mwsys.stuff(message))
    assert reply.code == 250, reply
    msg, rest = _arrived(sink, token)
    assert rest == message


def test_smtputf8_address_arrives(gw, sink):
    token = mwsys.unique("utf8")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<jörg@b.test> SMTPUTF8").code == 250
        assert c.cmd("RCPT TO:<jürgen@example.test>").code == 250
        reply = c.data(f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert reply.code == 250, reply
    msg, _ = _arrived(sink, token)
    assert msg.rcpt_tos == ["jürgen@example.test"]
    assert msg.mail_from == "jörg@b.test"


def test_message_to_several_recipients_arrives_for_each(gw, sink):
    token = mwsys.unique("multi")
    rcpts = ["one@example.test", "two@example.test"]
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.test", timeout=mwsys.REPLY_TIMEOUT) as client:
        assert client.sendmail("a@b.test", rcpts, f"Subject: {token}\r\n\r\nx\r\n") == {}

    def delivered():
        got = sorted(r for m in sink.with_token(token) for r in m.rcpt_tos)
        return got if len(got) >= len(rcpts) else None

    assert mwsys.wait_until(delivered, what="both recipients at the sink") == sorted(rcpts)


def test_single_empty_bdat_last_is_answered(gw, sink):
    """BDAT 0 LAST as the whole message: no bytes follow the command, so
    nothing but the queue's answer can wake the session (it once hung)."""
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        reply = c.cmd("BDAT 0 LAST")
        assert reply.code == 250 and "queued as" in reply.text, reply
        assert c.cmd("QUIT").code == 221
