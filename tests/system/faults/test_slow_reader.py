"""A client that never reads its replies (issue 14 "Load and slow
clients", catalogue case 156, SEC-4).

The client shrinks its receive buffer, pipelines RSET after RSET and
never reads. smtpd keeps at most OUTPUT_MAX (64 KiB, src/smtp/session.c)
of unread replies: past that it stops taking the client's commands, its
input buffer fills up to CONN_INPUT_MAX (256 KiB, src/net/conn.h) and the
connection stops reading from the socket, so the client's sends stall
while the gateway's memory stays put. With no reply written for
limits.command_timeout the write times out: the session is closed (421,
then dropped when that cannot be written either, after another
command_timeout).
"""

import errno
import socket
import time

import pytest

import mwsys
from load import ASAN, rss_bytes

COMMAND_TIMEOUT = 3
SEND_MAX = 16 * 1024 * 1024      # unbounded buffering would take all of it
RSS_GROWTH_MAX = 2 * 1024 * 1024


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn):
    # At level info: a debug line per command and reply would make smtpd
    # slower than the client, and the test would time the log, not the cap.
    return make_gateway_fn(sink=make_sink_fn(), log={"target": "stderr", "format": "kv", "level": "info"},
                           limits={"command_timeout": f"{COMMAND_TIMEOUT}s"})


def _tiny_window_client(gw):
    """(source address, socket) of a client with a 4 KiB receive buffer,
    connected from an address of its own (its session is findable)."""
    source = mwsys.ADDRESSES.get()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", gw.port))
    return source, sock


def _send_until_stalled(sock, limit, stall_seconds=2.0):
    """Pipelined RSETs, never reading, until the socket has taken nothing
    for stall_seconds (or limit bytes went out); the bytes sent."""
    chunk = b"RSET\r\n" * 10000
    sock.setblocking(False)
    sent = 0
    stalled_since = None
    while sent < limit:
        try:
            sent += sock.send(chunk)
            stalled_since = None
        except BlockingIOError:
            now = time.monotonic()
            stalled_since = stalled_since or now
            if now - stalled_since >= stall_seconds:
                break
            time.sleep(0.01)
    return sent


def test_client_that_never_reads_is_dropped_with_bounded_memory(gw):
    """SEC-4, case 156: unread replies are bounded per session and the
    session ends within twice the command timeout."""
    smtpd = gw.pid("smtpd")
    rss_before = rss_bytes(smtpd)
    mark = gw.mark()
    source, sock = _tiny_window_client(gw)
    try:
        sent = _send_until_stalled(sock, SEND_MAX)
        stalled_at = time.monotonic()
        growth = rss_bytes(smtpd) - rss_before
        print(f"\nslow reader: {sent} bytes of RSET taken before the gateway stopped reading; "
              f"smtpd RSS grew by {growth // 1024} KiB")
        assert sent < SEND_MAX, "the gateway read 16 MiB of commands whose replies nobody read"
        if not ASAN:   # there, `sent` above is the bound that tells
            assert growth <= RSS_GROWTH_MAX, f"smtpd RSS grew by {growth} bytes for one slow reader"

        session = gw.session_of(source, start=mark)
        gw.wait_event(proc="smtpd", event="timeout", session=session, start=mark,
                      timeout=COMMAND_TIMEOUT + 5)
        gw.wait_event(proc="smtpd", event="disconnect", session=session, start=mark,
                      timeout=2 * COMMAND_TIMEOUT + 5)
        took = time.monotonic() - stalled_at
        print(f"slow reader: session closed {took:.1f} s after the client stalled "
              f"(command_timeout {COMMAND_TIMEOUT} s)")
        assert took <= 2 * COMMAND_TIMEOUT + 3
        assert ASAN or rss_bytes(smtpd) - rss_before <= RSS_GROWTH_MAX
    finally:
        sock.close()
    # The gateway serves others as before.
    assert mwsys.send_message(gw, b"Subject: after the slow reader\r\n\r\nx\r\n").code == 250


def test_gateway_closes_the_socket_of_a_reader_that_stopped(gw):
    """The end is real: once the client reads again it finds the replies
    and then the end of the connection, no endless stream (case 156)."""
    mark = gw.mark()
    source, sock = _tiny_window_client(gw)
    try:
        _send_until_stalled(sock, SEND_MAX)
        session = gw.session_of(source, start=mark)
        gw.wait_event(proc="smtpd", event="disconnect", session=session, start=mark,
                      timeout=2 * COMMAND_TIMEOUT + 5)
        sock.setblocking(True)
        sock.settimeout(5)
        received = 0
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            except OSError as e:
                assert e.errno != errno.EAGAIN, "the gateway left the connection open"
                raise
            if not chunk:
                break
            received += len(chunk)
        # What was written before the stall, bounded by the socket buffers and OUTPUT_MAX.
        assert received < 64 * 1024 * 1024
    finally:
        sock.close()
