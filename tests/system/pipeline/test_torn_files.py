"""A queue file whose envelope is fine but whose message was cut off, or
lost bytes in the middle, is moved to spool/corrupt/ at recovery and
never delivered as a short message (issue 18 item 11, Q-1, SEC-4): the
trailer records the message's length and a footer names where the
trailer starts, so any cut or splice shows."""

import os
import struct

import pytest

import mwsys


@pytest.fixture
def gw(make_gateway_fn):
    # Mail for example.test waits: its next hop never answers.
    return make_gateway_fn(routes={"example.test": "smtp://127.0.0.1:1"})


def queued_message(gw, token):
    start = gw.mark()
    with mwsys.SmtpClient(gw.port, source=mwsys.ADDRESSES.get()) as c:
        assert c.greeting().code == 220 and c.ehlo().code == 250
        final = c.transaction("a@client.test", ["user@example.test"],
                              f"Subject: {token}\r\n\r\n{token} " .encode() + b"x" * 2000 + b"\r\n")
    assert final.code == 250
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="queue", event="delivery", queue_id=qid, status="deferred")
    return qid


def trailer_offset(raw):
    assert raw[-12:-8] == b"MWT1", "a committed file ends in the MWT1 footer"
    return struct.unpack(">Q", raw[-8:])[0]


def cut_at_end_of_message(raw):
    return raw[:trailer_offset(raw) - 3]


def bytes_lost_in_the_middle(raw):
    body = raw.index(b"xxxx")
    return raw[:body] + raw[body + 100:]


@pytest.mark.parametrize("damage", [cut_at_end_of_message, bytes_lost_in_the_middle],
                         ids=["cut_off", "bytes_lost"])
def test_a_damaged_message_goes_to_corrupt_and_is_never_delivered(gw, damage):
    qid = queued_message(gw, f"torn-{damage.__name__}")
    gw.stop()
    path = gw.path("spool", "queue", qid)
    raw = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(damage(raw))
    start = gw.mark()
    gw.start()
    gw.wait_event(start=start, proc="queue", event="spool_corrupt", queue_id=qid)
    assert os.path.exists(gw.path("spool", "corrupt", qid))
    assert not os.path.exists(path)
    assert not gw.events(start=start, event="delivery", queue_id=qid)
