"""The content point's client (bench/smtp_replay.py) against a real SMTP
server on loopback (aiosmtpd): messages arrive as saved, and refusals are
counted as such. Not part of `make test` (it tests the benchmark, not the
gateway):

    /usr/bin/python3 -m pytest -q -p no:cacheprovider bench/test_smtp_replay.py
"""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from aiosmtpd.controller import Controller

HERE = os.path.dirname(os.path.abspath(__file__))


class Keeper:
    """Keeps what it receives; refuses a message whose Subject says so."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        if b"Subject: refuse me" in envelope.original_content:
            return "554 5.7.1 refused for the test"
        self.received.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return "250 ok"


@pytest.fixture
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    keeper = Keeper()
    ctl = Controller(keeper, hostname="127.0.0.1", port=port)
    ctl.start()
    yield port, keeper
    ctl.stop()


def replay(tmp_path, port, messages, sessions=2):
    paths = []
    for i, raw in enumerate(messages):
        p = tmp_path / f"m{i}"
        p.write_bytes(raw)
        paths.append(str(p))
    listfile, out = tmp_path / "list", tmp_path / "out.json"
    listfile.write_text("\n".join(paths) + "\n")
    subprocess.run([sys.executable, os.path.join(HERE, "smtp_replay.py"), str(port), str(sessions),
                    str(listfile), str(out), str(time.monotonic() + 20)], check=True, timeout=30)
    return json.loads(out.read_text())


def test_messages_arrive_as_saved(tmp_path, server):
    port, keeper = server
    saved = (b"From someone@example.org  Sat Jan  1 00:00:00 2005\n"   # mbox separator: not sent
             b"From: <a@example.org>\nSubject: dots\n\n.leading dot\n..two\nlast line without newline")
    crlf = b"From: <b@example.org>\r\nSubject: crlf\r\n\r\nbody\r\n.\r\n"  # a lone dot line inside
    res = replay(tmp_path, port, [saved, crlf])
    assert res["sent"] == res["accepted"] == 2 and res["refused"] == res["errors"] == 0
    got = sorted(c for _, _, c in keeper.received)
    assert got == sorted([b"From: <a@example.org>\r\nSubject: dots\r\n\r\n.leading dot\r\n..two\r\n"
                          b"last line without newline\r\n",
                          b"From: <b@example.org>\r\nSubject: crlf\r\n\r\nbody\r\n.\r\n"])
    assert all(m == "bench@src.test" and r == ["rcpt@bench.test"] for m, r, _ in keeper.received)


def test_refusals_are_counted_and_the_session_goes_on(tmp_path, server):
    port, keeper = server
    ok = b"Subject: fine\n\nhello\n"
    bad = b"Subject: refuse me\n\nspam\n"
    res = replay(tmp_path, port, [ok, bad, ok, bad, ok], sessions=1)
    assert (res["sent"], res["accepted"], res["refused"], res["tempfailed"]) == (5, 3, 2, 0)
    assert res["samples"]["554"][0].startswith("5.7.1 REFUSED")
    assert len(keeper.received) == 3


def test_bare_cr_ends_a_line(tmp_path, server):
    port, keeper = server
    res = replay(tmp_path, port, [b"Subject: cr\n\none\rtwo\r\n"])
    assert res["accepted"] == 1
    assert keeper.received[0][2] == b"Subject: cr\r\n\r\none\r\ntwo\r\n"


def test_a_session_the_server_closes_is_replaced(tmp_path):
    """A server that answers 421 and closes after each message: one
    session must still get every message through, reconnecting."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port, got = srv.getsockname()[1], []

    def serve():
        for _ in range(3):
            c, _ = srv.accept()
            f = c.makefile("rb")
            c.sendall(b"220 x\r\n")
            f.readline()
            c.sendall(b"250 x\r\n")                      # EHLO: no PIPELINING
            for answer in (b"250 ok\r\n", b"250 ok\r\n", b"354 go\r\n"):
                f.readline()
                c.sendall(answer)
            while f.readline() != b".\r\n":
                pass
            got.append(1)
            c.sendall(b"421 closing\r\n")
            f.close()   # the file object holds the socket open too
            c.close()

    import threading
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    res = replay(tmp_path, port, [b"Subject: a\n\nx\n"] * 3, sessions=1)
    t.join(10)
    srv.close()
    assert len(got) == 3
    assert (res["sent"], res["tempfailed"]) == (3, 3)
