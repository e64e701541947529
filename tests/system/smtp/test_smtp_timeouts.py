"""An idle client is dropped with 421 after command_timeout (here 1s), a
stalled DATA after data_timeout (here 1s), and nothing half-received is
queued."""

import select
import time

import pytest

import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink, limits={"command_timeout": "1s", "data_timeout": "1s"})


STALLS = {
    "after_greeting": [],
    "after_ehlo": ["EHLO client.test\r\n"],
    "inside_transaction": ["EHLO client.test\r\n", "MAIL FROM:<a@b.test>\r\n"],
    "half_a_command": ["EHLO client.test\r\n", "NOO"],
}


@pytest.mark.parametrize("sent", STALLS.values(), ids=STALLS.keys())
def test_idle_client_is_closed_with_421(gw, sent):
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        for chunk in sent:
            c.send(chunk)
            if chunk.endswith("\r\n"):
                assert c.reply().code == 250
        began = time.monotonic()
        reply = c.reply()
        waited = time.monotonic() - began
        assert reply.code == 421, reply
        assert reply.enhanced is not None and reply.enhanced.startswith("4."), reply
        assert c.at_eof(timeout=5), "session still open after the 421"
        source = c.source
    assert 0.8 <= waited <= 5.0, f"timed out after {waited:.2f}s, command_timeout is 1s"
    gw.wait_session_end(source, start=start)


@pytest.mark.parametrize("partial", ["", "Subject: stalled\r\n\r\nhalf a bo"],
                         ids=["nothing_sent", "half_a_body"])
def test_stalled_data_is_closed_with_421_and_not_queued(gw, sink, partial):
    start = gw.mark()
    token = mwsys.unique("stall")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<u@example.test>").code == 250
        assert c.cmd("DATA").code == 354
        c.send(partial.replace("stalled", token))
        began = time.monotonic()
        reply = c.reply()
        waited = time.monotonic() - began
        assert reply.code == 421, reply
        assert c.at_eof(timeout=5)
        source = c.source
    assert 0.8 <= waited <= 5.0, f"timed out after {waited:.2f}s, data_timeout is 1s"
    session = gw.wait_session_end(source, start=start)
    assert gw.events(start=start, event="queued", session=session) == []
    assert gw.events(start=start, event="committed", session=session) == []


def test_active_client_is_not_timed_out(gw, sink):
    token = mwsys.unique("active")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        # Six pauses of 0.3s, each well within the timeout, add up past it;
        # the server must stay silent during each.
        for _ in range(6):
            readable, _, _ = select.select([c.sock], [], [], 0.3)
            assert not readable, "the server spoke or closed while the client was within the timeout"
            assert c.cmd("NOOP").code == 250
        reply = c.transaction("a@b.test", ["u@example.test"], f"Subject: {token}\r\n\r\nx\r\n")
    assert reply.code == 250, reply
    sink.wait_token(token)
