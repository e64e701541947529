"""Attack catalogue, section 1: SMTP smuggling and the end of DATA
(cases 1-21, SEC-4, Q-1). The project's rule: a bare CR or LF in DATA is
refused (5xx) and only CRLF.CRLF ends the data; nothing after a false end
of data ever becomes a message. Every case also checks U1-U4
(attack_env)."""

import os
import socket
import struct

import pytest

import attack_env as env
import certs
import mwsys


def _t_smug(token, eod):
    """Template T-SMUG."""
    return (f"From: a@attacker.test\r\nSubject: carrier-{token}\r\n\r\nline one".encode() + eod
            + b"MAIL FROM:<ceo@local.test>\r\nRCPT TO:<u@local.test>\r\nDATA\r\n"
            + f"From: ceo@local.test\r\nSubject: SMUGGLED-{token}\r\n\r\nsmuggled\r\n.\r\n".encode())


SMUGGLING_EODS = {
    "01-lf-dot-lf": b"\n.\n",
    "02-lf-dot-crlf": b"\n.\r\n",
    "03-crlf-dot-lf": b"\r\n.\n",
    "09-nul-before-dot": b"\r\n\x00.\r\n",
}


@pytest.mark.parametrize("eod", SMUGGLING_EODS.values(), ids=SMUGGLING_EODS.keys())
def test_case_smuggling_template(gw, internal, outbound, eod):
    """Cases 1, 2, 3, 9: the carrier is refused with 5xx, at most one 250,
    no SMUGGLED message anywhere, the session does not resynchronise on
    the false end of data."""
    token = mwsys.unique("smug")
    with env.Attack(gw) as a:
        c = a.prelude()
        c.send(_t_smug(token, eod))
        replies = c.read_for(3)
        assert replies, "no reply to the carrier"
        assert 500 <= replies[0].code < 600, f"(c) carrier not refused: {replies}"
        assert sum(r.code == 250 for r in replies) <= 1, f"(b) {replies}"
        assert not any(r.code == 354 or "queued" in r.text for r in replies), \
            f"(d) resynchronised on the false end of data: {replies}"
        assert env.session_queued(gw, a.start, c.source) == []
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[f"SMUGGLED-{token}", f"carrier-{token}"])


OUTBOUND_SEQUENCES = [b"\n.\n", b"\n.\r", b"\r.\n", b"\r.\r", b"\n.\r\n", b"\r.\r\n",
                      b"\r\n.\r\r\n", b"\r\r\n.\r\r\n", b"\r\n\x00.\r\n"]


@pytest.mark.parametrize("seq", OUTBOUND_SEQUENCES, ids=[f"13-outbound-{i}" for i in range(len(OUTBOUND_SEQUENCES))])
def test_case_outbound_smuggling(gw, internal, outbound, seq):
    """Case 13 (the gateway as service A): an authenticated submission
    whose content holds a false end of data is refused, so nothing with a
    stray CR/LF, and no SMUGGLED-OUT, is relayed. (The lenient OpenSMTPD
    receiver is not needed: the submission never leaves the gateway.)"""
    token = mwsys.unique("out")
    count = len(outbound.messages)
    with env.Attack(gw) as a:
        c = a.client(port=env.port_of(gw, "submission"))
        c.ehlo("a.test")
        assert c.starttls(certs.client_context()).code == 220
        c.ehlo("a.test")
        assert c.cmd(env.AUTH_PLAIN).code == 235
        assert c.cmd("MAIL FROM:<user@local.test>").code == 250
        assert c.cmd("RCPT TO:<v@remote.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(f"From: user@local.test\r\nSubject: {token}\r\n\r\nhello".encode() + seq
               + b"MAIL FROM:<user@local.test>\r\nRCPT TO:<v@remote.test>\r\nDATA\r\n"
               + b"Subject: SMUGGLED-OUT\r\n\r\nx\r\n.\r\n")
        replies = c.read_for(3)
        assert replies and 500 <= replies[0].code < 600, f"submission with stray CR/LF not refused: {replies}"
        assert not any(r.code == 250 for r in replies), replies
    env.assert_sinks_hold(gw, internal, outbound, forbidden=["SMUGGLED-OUT", token],
                          outbound_quiet_since=count)


STUFFING = (b"Subject: a-{t}\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@attacker.test>\r\nRCPT TO:<u@local.test>\r\n"
            b"DATA\r\n")


def test_case_14_transaction_stuffing(gw, internal, outbound):
    """Case 14: a second transaction, its body sent before 354, does not
    produce a message; the first message is accepted."""
    token = mwsys.unique("stuff")
    with env.Attack(gw) as a:
        c = a.prelude()
        c.send(STUFFING.replace(b"{t}", token.encode()) + f"Subject: b-{token}\r\n\r\nbody2\r\n.\r\n".encode())
        replies = c.read_for(3)
        assert replies and replies[0].code == 250, f"first message: {replies}"
        assert sum("queued" in r.text for r in replies) == 1, f"second message accepted: {replies}"
    internal.wait_token(f"a-{token}")
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[f"b-{token}"])


def test_case_14b_pipelined_data_then_body(gw, internal, outbound):
    """Case 14b (positive control): the same, but the body of the second
    message only after its 354: both messages are accepted."""
    token = mwsys.unique("stuffb")
    with env.Attack(gw) as a:
        c = a.prelude()
        c.send(STUFFING.replace(b"{t}", token.encode()))
        replies = c.replies(4)
        assert [r.code for r in replies] == [250, 250, 250, 354], replies
        c.send(f"Subject: b-{token}\r\n\r\nbody2\r\n.\r\n".encode())
        assert c.reply().code == 250
    internal.wait_token(f"a-{token}")
    internal.wait_token(f"b-{token}")
    env.assert_sinks_hold(gw, internal, outbound)


def _bdat_client(a):
    c = a.client()
    c.ehlo("a.test")
    assert c.cmd("MAIL FROM:<s@attacker.test>").code == 250
    assert c.cmd("RCPT TO:<u@local.test>").code == 250
    return c


def test_case_16a_bdat_content_is_content(gw, internal, outbound):
    """Case 16a: a lone '.' and commands inside a BDAT chunk are content;
    one message, and the sink (over DATA, stuffed) sees the '.' line."""
    token = mwsys.unique("bdat")
    chunk = (f"Subject: {token}\r\n\r\nhello\r\n.\r\nMAIL FROM:<s@attacker.test>\r\n"
             f"RCPT TO:<u@local.test>\r\nDATA\r\n").encode()
    with env.Attack(gw) as a:
        c = _bdat_client(a)
        c.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk)
        r = c.reply()
        assert r.code == 250, r
        assert c.cmd("NOOP").code == 250      # no reply for the "commands" in the chunk
    msg = internal.wait_token(token)
    body = msg.data.split(b"\r\n\r\n", 1)[1]
    assert body == b"hello\r\n.\r\nMAIL FROM:<s@attacker.test>\r\nRCPT TO:<u@local.test>\r\nDATA\r\n", body
    env.assert_clean_header_block(msg.data)
    env.assert_sinks_hold(gw, internal, outbound)
    assert len(internal.with_token(token)) == 1


@pytest.mark.parametrize("size", ["18446744073709551616", "-1", "1x", "99999999999 LAST"],
                         ids=["16c-2^64", "16c-minus-one", "16c-junk", "16c-over-size-limit"])
def test_case_16c_bdat_bad_size(gw, size):
    """Case 16c: impossible chunk sizes get 501 or 552 (no allocation of
    the announced size: the gateway stays live, U1)."""
    with env.Attack(gw) as a:
        c = _bdat_client(a)
        r = c.try_cmd(f"BDAT {size}")
        env.assert_refused(r, f"BDAT {size}", codes=(501, 552))


def test_case_16e_data_after_bdat(gw):
    """Case 16e: DATA after a BDAT in the same transaction is 503."""
    with env.Attack(gw) as a:
        c = _bdat_client(a)
        c.send(b"BDAT 9\r\nSubject: ")
        assert c.reply().code == 250
        r = c.try_cmd("DATA")
        env.assert_refused(r, "DATA after BDAT", codes=(503,))


BARE_CONTENT = {
    "17-bare-lf-and-cr-in-body": b"Subject: x-{t}\r\n\r\nline1\nline2\rline3\r\n",
    "17-bare-cr-header-bcc": b"Subject: a-{t}\rBcc: v@remote.test\r\n\r\nbody\r\n",
}


@pytest.mark.parametrize("content", BARE_CONTENT.values(), ids=BARE_CONTENT.keys())
def test_case_bare_cr_lf_in_content(gw, internal, outbound, content):
    """Case 17: refused (5xx); nothing reaches v@remote.test."""
    token = mwsys.unique("bare")
    count = len(outbound.messages)
    with env.Attack(gw) as a:
        c = a.prelude()
        c.send(content.replace(b"{t}", token.encode()) + b".\r\n")
        r = c.reply()
        env.assert_refused(r, "bare CR/LF")
        assert 500 <= r.code < 600, r
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token], outbound_quiet_since=count)


def test_case_18_dot_stuffing_round_trip(gw, internal, outbound):
    """Case 18: the received lines are '.', '.x', '..', ' .', 'end', and so
    is what the sink decodes after the relay over DATA (a missing stuffing
    would end the relayed message at the first '.')."""
    token = mwsys.unique("dots")
    with env.Attack(gw) as a:
        c = a.prelude()
        c.send(f"Subject: {token}\r\n\r\n".encode() + b"..\r\n..x\r\n...\r\n .\r\nend\r\n.\r\n")
        assert c.reply().code == 250
    msg = internal.wait_token(token)
    assert msg.data.split(b"\r\n\r\n", 1)[1] == b".\r\n.x\r\n..\r\n .\r\nend\r\n", msg.data
    env.assert_clean_header_block(msg.data)
    env.assert_sinks_hold(gw, internal, outbound)


def _spool_tmp_used(gw):
    tmp = gw.path("spool", "tmp")
    return [n for n in os.listdir(tmp) if os.path.getsize(os.path.join(tmp, n)) > 0]


@pytest.mark.parametrize("how", ["fin", "rst"], ids=["21-fin", "21-rst"])
def test_case_21_connection_lost_in_data(gw, internal, outbound, how):
    """Case 21: 50 KB of content, then FIN (or RST): nothing queued or
    delivered, no temporary file left behind."""
    token = mwsys.unique("lost")
    with env.Attack(gw) as a:
        c = a.prelude()
        c.send(f"Subject: {token}\r\n\r\n".encode() + (b"x" * 78 + b"\r\n") * 640)
        if how == "rst":
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        gw.wait_event(proc="smtpd", event="disconnect", session=gw.session_of(c.source, start=a.start),
                      start=a.start)
        assert env.session_queued(gw, a.start, c.source) == []
    env.assert_sinks_hold(gw, internal, outbound, forbidden=[token])
    mwsys.wait_until(lambda: not _spool_tmp_used(gw), what="spool/tmp without partial messages")
