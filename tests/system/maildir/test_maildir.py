"""maildir routes: mail for other.test lands in
state_dir/maildir/other.test/new/ as one file per message, with LF line
endings, holding the message as sent (Received header on top)."""

import os

import pytest

import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    return make_gateway(sink=sink)


def _maildir(gw, sub="new"):
    return gw.path("maildir", "other.test", sub)


def _files(gw, sub="new"):
    path = _maildir(gw, sub)
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def _read(gw, name):
    with open(os.path.join(_maildir(gw), name), "rb") as f:
        return f.read()


BODIES = {
    "plain": "Hello maildir\r\n",
    "dot_lines": ".\r\n..\r\n.leading\r\n",
    "empty_lines": "\r\n\r\nafter empty lines\r\n",
    "utf8": "Grüße ½\r\n",
    "long_line": "z" * 990 + "\r\n",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_message_lands_in_maildir_new_with_lf_endings(gw, body):
    token = mwsys.unique("maildir")
    message = f"Subject: {token}\r\nTo: user@other.test\r\n\r\n{body}".encode()
    before = set(_files(gw))
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@b.test", ["user@other.test"], mwsys.stuff(message))
    assert reply.code == 250, reply
    qid = mwsys.queue_id(reply)
    delivery = gw.wait_delivered(qid, to="user@other.test", start=start)
    assert delivery["nexthop"].startswith("maildir:"), delivery
    new = mwsys.wait_until(lambda: set(_files(gw)) - before, what="a new file in maildir new/")
    assert len(new) == 1, f"expected one file, got {new}"
    content = _read(gw, new.pop())
    assert b"\r" not in content, "CR found in the maildir file"
    expected = message.replace(b"\r\n", b"\n")
    # The message as sent, below what the gateway put on top (its Received header).
    assert content.endswith(b"\n" + expected), content
    added = content[:-len(expected)]
    assert added.startswith(b"Received: from ") or b"\nReceived: from " in added, added


def test_maildir_tmp_is_empty_after_delivery(gw):
    token = mwsys.unique("tmp")
    start = gw.mark()
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@b.test", ["user@other.test"], f"Subject: {token}\r\n\r\nx\r\n".encode())
    assert reply.code == 250, reply
    gw.wait_delivered(mwsys.queue_id(reply), start=start)
    gw.wait_event(proc="queue", event="removed", queue_id=mwsys.queue_id(reply), start=start)
    assert _files(gw, "tmp") == []
