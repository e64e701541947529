"""Pipelining synchronisation (RFC 2920 3.1; issue 18 item 1, SEC-4).
A client may send a group of commands without waiting, but must wait for
the reply to a command that ends a group (EHLO, HELO, STARTTLS, DATA,
BDAT ... LAST, QUIT) and for the greeting. Whatever it sent behind such a
command is never executed: the session ends with 554 5.5.0 "improper
command pipelining", as Postfix does. So message content sent before the
354 (the attack catalogue's transaction stuffing, case 14) can never
become a second transaction."""

import socket

import pytest

import mwsys

PIPELINING_REPLY = "improper command pipelining"


@pytest.fixture(scope="module")
def gw(make_gateway, ports, sink):
    return make_gateway(
        sink=sink,
        listeners=[
            {"name": "mta", "address": "127.0.0.1", "port": ports.get()},
            {"name": "pregreet", "address": "127.0.0.1", "port": ports.get(), "greet_delay": "1s"},
        ])


def _up_to_rcpt(c):
    c.greeting()
    c.ehlo()
    assert c.cmd("MAIL FROM:<a@b.test>").code == 250
    assert c.cmd("RCPT TO:<user@example.test>").code == 250


def _assert_out_of_sync(gw, c, replies, after, start):
    """The last reply is the 554 that ends the session, naming `after`."""
    assert replies and replies[-1].code == 554 and replies[-1].enhanced == "5.5.0", replies
    assert PIPELINING_REPLY in replies[-1].text and after in replies[-1].text, replies
    assert c.closed or c.at_eof(), "the session stayed open"
    session = gw.wait_session_end(c.source, start=start)
    gw.wait_event(proc="smtpd", event="reject", session=session, command=after,
                  reason=PIPELINING_REPLY, start=start)
    return session


def test_catalogue_transaction_stuffing_after_end_of_data_never_delivers_the_second_message(gw, sink):
    """Attack catalogue case 14: the second message's content came before
    its 354. The first message is accepted; the second never exists."""
    first, second = mwsys.unique("stuff1"), mwsys.unique("stuff2")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        _up_to_rcpt(c)
        assert c.cmd("DATA").code == 354
        c.send(f"Subject: {first}\r\n\r\nbody\r\n.\r\n"
               "MAIL FROM:<a@attacker.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n"
               f"Subject: {second}\r\n\r\nbody2\r\n.\r\n")
        replies = c.replies_until_closed()
        session = _assert_out_of_sync(gw, c, replies, "DATA", start)
    assert "queued as" in replies[0].text, replies
    assert not any(r.code == 354 for r in replies), replies
    assert len(gw.events(start=start, event="queued", session=session)) == 1
    sink.wait_token(first)
    assert sink.with_token(second) == []


def test_catalogue_positive_control_waiting_for_354_delivers_both(gw, sink):
    """Case 14b: the same bytes, but the client stops after DATA and waits
    for the 354. Content is the first 'command' of a new group."""
    first, second = mwsys.unique("ok1"), mwsys.unique("ok2")
    with mwsys.SmtpClient(gw.port) as c:
        _up_to_rcpt(c)
        assert c.cmd("DATA").code == 354
        c.send(f"Subject: {first}\r\n\r\nbody\r\n.\r\n"
               "MAIL FROM:<a@attacker.test>\r\nRCPT TO:<u@example.test>\r\nDATA\r\n")
        assert [r.code for r in c.replies(4)] == [250, 250, 250, 354]
        c.send(f"Subject: {second}\r\n\r\nbody2\r\n.\r\nQUIT\r\n")
        assert [r.code for r in c.replies(2)] == [250, 221]
    sink.wait_token(first)
    sink.wait_token(second)


STUFFED = {
    # (the lines before, the command that ends the group, what follows it in the same write)
    "behind_ehlo": ([], "EHLO client.test", "MAIL FROM:<a@b.test>\r\n"),
    "behind_helo": ([], "HELO client.test", "MAIL FROM:<a@b.test>\r\n"),
    "behind_starttls": (["EHLO client.test"], "STARTTLS", "MAIL FROM:<a@b.test>\r\n"),
    "behind_quit": (["EHLO client.test"], "QUIT", "MAIL FROM:<a@b.test>\r\n"),
    "behind_a_refused_data": (["EHLO client.test", "MAIL FROM:<a@b.test>"], "DATA",
                              "MAIL FROM:<x@evil.test>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n"),
    "behind_data_before_any_transaction": (["EHLO client.test"], "DATA",
                                           "MAIL FROM:<x@evil.test>\r\n"),
    "content_behind_data": (["EHLO client.test", "MAIL FROM:<a@b.test>", "RCPT TO:<user@example.test>"],
                            "DATA", "Subject: early\r\n\r\nx\r\n.\r\n"),
}


@pytest.mark.parametrize("before,last,behind", STUFFED.values(), ids=STUFFED.keys())
def test_input_behind_a_command_that_ends_a_group_ends_the_session_unexecuted(gw, sink, before, last, behind):
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        for line in before:
            assert c.cmd(line).code in (250, 554), line
        c.send(f"{last}\r\n{behind}")
        replies = c.replies_until_closed()
        session = _assert_out_of_sync(gw, c, replies, last.split()[0], start)
    assert len(replies) == 1, f"the stuffed commands were answered: {replies}"
    assert gw.events(start=start, event="mail", session=session, **{"from": "x@evil.test"}) == []
    assert gw.events(start=start, event="queued", session=session) == []


def test_input_behind_bdat_last_ends_the_session_and_nothing_is_queued(gw):
    start = gw.mark()
    chunk = b"Subject: bdat\r\n\r\nx\r\n"
    with mwsys.SmtpClient(gw.port) as c:
        _up_to_rcpt(c)
        c.send(f"BDAT {len(chunk)} LAST\r\n".encode() + chunk + b"MAIL FROM:<x@evil.test>\r\n")
        replies = c.replies_until_closed()
        session = _assert_out_of_sync(gw, c, replies, "BDAT LAST", start)
    assert len(replies) == 1, replies
    assert gw.events(start=start, event="queued", session=session) == []


def test_after_a_refused_data_content_lines_cannot_start_a_transaction(gw):
    """A client that did not wait for the 354 sends its content later, in
    a write of its own: no line of it may open a transaction (RSET must
    come first; clients send it after a failed transaction anyway)."""
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<someone@far-away.example>").code == 554   # relay denied
        assert c.cmd("DATA").code == 554
        r = c.cmd("MAIL FROM:<x@evil.test>")
        assert r.code == 503 and "RSET" in r.text, r
        assert c.cmd("RCPT TO:<user@example.test>").code == 503
        assert c.cmd("DATA").code == 503
        assert c.cmd("RSET").code == 250
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250


def test_client_talking_before_the_delayed_greeting_is_refused(gw):
    """greet_delay (postscreen's pregreet test): an early talker gets one
    554 instead of the 220, and none of its commands runs."""
    start = gw.mark()
    with mwsys.SmtpClient(gw.listener_port("pregreet")) as c:
        c.send("EHLO early.test\r\nMAIL FROM:<x@evil.test>\r\n")
        replies = c.replies_until_closed()
        _assert_out_of_sync(gw, c, replies, "CONNECT", start)
    assert len(replies) == 1, replies


def test_client_that_waits_for_the_delayed_greeting_is_served(gw, sink):
    token = mwsys.unique("patient")
    with mwsys.SmtpClient(gw.listener_port("pregreet")) as c:
        c.sock.settimeout(0.5)
        with pytest.raises(socket.timeout):
            c.greeting()   # nothing yet: the greeting waits for greet_delay
        c.sock.settimeout(mwsys.TIMEOUT)
        assert c.greeting().code == 220
        c.ehlo()
        reply = c.transaction("a@b.test", ["user@example.test"], f"Subject: {token}\r\n\r\nx\r\n")
    assert reply.code == 250, reply
    sink.wait_token(token)
