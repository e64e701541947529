"""A clean stop under LeakSanitizer (issue 18 item 12): on SIGTERM every
process (master, smtpd, queue with its commit workers and spool pool
tidier, scanner with its workers) joins its threads and frees what it
allocated, so the ASan build with leak detection reports nothing at exit.
Runs only against the ASan build (MW_BIN=build-asan/mailwarden).

LeakSanitizer reads /proc/<pid>/task to stop the process' threads, which a
process chrooted to an empty directory (smtpd, scanner when root starts
the daemon) cannot see; so the daemon is started here as an unprivileged
user, which runs every process unconfined as that user (README). For the
same reason the seccomp filters are off here: LeakSanitizer stops the
world with prctl, a clone that is no thread and ptrace, which the filters
of smtpd and the scanner kill (tests/system/privsep/test_seccomp.py covers
the filters, in this build too)."""

import os
import pwd
import socket
import socketserver
import struct
import stat
import threading
import time

import pytest

import mwsys


def _is_asan_build(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


@pytest.fixture
def leak_checked(mw_bin, monkeypatch):
    if not _is_asan_build(mw_bin):
        pytest.skip("MW_BIN is not the ASan build: no LeakSanitizer to ask")
    options = mwsys.SANITIZER_ENV["ASAN_OPTIONS"].replace("detect_leaks=0", "detect_leaks=1")
    monkeypatch.setenv("ASAN_OPTIONS", options)


def _as_user(gw, name):
    """Make gw start its daemon as user name (only root can): a wrapper
    that drops to the user before it execs the binary, and a work
    directory that user owns; and no seccomp filters, which would kill
    LeakSanitizer's stop of the world (see the top)."""
    gw.config["security"] = {"seccomp": False}
    if os.geteuid() != 0:
        return
    pw = pwd.getpwnam(name)
    wrapper = os.path.join(gw.workdir, "as-user")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec setpriv --reuid={pw.pw_uid} --regid={pw.pw_gid} --clear-groups "
                f"{gw.binary} \"$@\"\n")
    os.chmod(wrapper, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    gw.binary = wrapper
    os.makedirs(gw.state_dir, mode=0o755, exist_ok=True)
    for root, dirs, files in os.walk(gw.workdir):
        for entry in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.chown(entry, pw.pw_uid, pw.pw_gid)


def test_every_process_stops_without_a_leak_report(leak_checked, make_gateway_fn, make_sink_fn):
    sink = make_sink_fn()
    gw = make_gateway_fn(start=False, sink=sink)
    _as_user(gw, "mailwarden")
    gw.start()
    token = mwsys.unique("leak")
    mwsys.send_token(gw, token)
    sink.wait_token(token)
    mark = gw.mark()
    gw.stop()
    text = gw.log.text(mark)
    assert "Sanitizer" not in text, text[-6000:]   # LeakSanitizer, or a crash at exit
    exits = gw.events(start=mark, proc="master", event="child_exited")
    assert exits and all(e.get("status") == "exit 0" for e in exits), exits


class _StallingHop:
    """A next hop on raw sockets that stalls a delivery mid-session: it
    accepts the connection and then, at `stall_at`, stops answering (the
    session stays open, as behind a slow or wedged peer). "GREETING": it
    never says 220; "DOT": it takes the whole message, then never answers
    its end. stalled is set when a session reached that point."""

    def __init__(self, port, stall_at):
        self.port = port
        self.stall_at = stall_at
        self.stalled = threading.Event()
        self.release = threading.Event()
        hop = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                hop._session(self.rfile, self.wfile)

        cls = type("S", (socketserver.ThreadingMixIn, socketserver.TCPServer),
                   {"daemon_threads": True, "allow_reuse_address": True})
        self.server = cls(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def _stall(self):
        self.stalled.set()
        self.release.wait(60)

    def _session(self, rfile, wfile):
        if self.stall_at == "GREETING":
            return self._stall()
        wfile.write(b"220 stall.test ready\r\n")
        while True:
            line = rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                wfile.write(b"250-stall.test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                wfile.write(b"354 go ahead\r\n")
                wfile.flush()
                while rfile.readline() not in (b".\r\n", b""):
                    pass
                return self._stall()
            elif verb == b"QUIT":
                wfile.write(b"221 bye\r\n")
                return
            else:
                wfile.write(b"250 ok\r\n")
            wfile.flush()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class _StallingDns:
    """A DNS server on 127.0.0.1:port (UDP) that answers A queries with
    127.0.0.1 when answer_a is set, and never answers anything else: a
    delivery that resolves its next hop's name stays in flight. stalled
    is set when a query it leaves unanswered comes in."""

    def __init__(self, port, answer_a):
        self.port = port
        self.answer_a = answer_a
        self.stalled = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def servers(self):
        return f"127.0.0.1:{self.port}"

    def _serve(self):
        while True:
            try:
                query, peer = self.sock.recvfrom(512)
            except OSError:
                return   # closed
            end = 12     # the question: labels, a zero byte, type and class
            while end < len(query) and query[end]:
                end += 1 + query[end]
            qtype = int.from_bytes(query[end + 1:end + 3], "big")
            if qtype == 1 and self.answer_a:   # A: one record, its name a pointer to the question
                answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 1])
                self.sock.sendto(query[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
                                 + query[12:end + 5] + answer, peer)
            else:
                self.stalled.set()

    def stop(self):
        self.sock.close()


SHUTDOWN_GRACE = 3   # seconds (the master's shutdown_grace in these tests)

STALLS = {
    "before_the_greeting": "GREETING",
    "after_the_end_of_data": "DOT",
}


def _gateway_with_stalling_hop(make_gateway_fn, hop, **changes):
    """A gateway, run as an unprivileged user, that routes example.test to
    hop; the stall must outlast the test: no timeout cuts it first."""
    gw = make_gateway_fn(start=False, routes={"example.test": hop.url, "other.test": "maildir:maildir/other.test"},
                         shutdown_grace=f"{SHUTDOWN_GRACE}s",
                         queue={"reply_timeout": "60s", "connect_timeout": "60s", **changes})
    _as_user(gw, "mailwarden")
    gw.start()
    return gw


def _stop_cuts_then_restart_delivers(gw, healthy, sent, what):
    """Stop gw while its deliveries to user@example.test (sent: queue id ->
    token) are in flight: no leak report, every child exits 0 within the
    grace, each attempt ends deferred with its message still in the spool.
    Then start it on the same spool with example.test routed to healthy:
    every message arrives there."""
    mark = gw.mark()
    began = time.monotonic()
    gw.stop(timeout=SHUTDOWN_GRACE + 10)
    took = time.monotonic() - began
    print(f"stopped in {took:.2f}s with {what}")
    text = gw.log.text(mark)
    assert "Sanitizer" not in text, text[-6000:]   # LeakSanitizer, or a crash at exit
    exits = gw.events(start=mark, proc="master", event="child_exited")
    assert exits and all(e.get("status") == "exit 0" for e in exits), exits
    assert took < SHUTDOWN_GRACE, f"the daemon took {took:.1f}s to stop"
    for qid in sent:
        # The attempt ended as a temporary failure: the recipient stays pending.
        cut = gw.events(start=mark, proc="queue", event="delivery", queue_id=qid, to="user@example.test")
        assert [e["status"] for e in cut] == ["deferred"], cut
        assert not gw.events(start=0, proc="queue", event="delivery", queue_id=qid, to="user@example.test",
                             status="sent")
        assert os.path.exists(gw.path("spool", "queue", qid)), f"{qid} left the spool"

    # The same spool, now routed to a healthy next hop: nothing was lost.
    gw.config["routes"]["example.test"] = healthy.url
    gw.start()
    for qid, token in sent.items():
        gw.wait_event(proc="queue", event="recovered", queue_id=qid, start=gw.start_offset)
        assert token.encode() in healthy.wait_token(token).data
        gw.wait_delivered(qid, to="user@example.test", start=gw.start_offset)


@pytest.mark.parametrize("stall_at", STALLS.values(), ids=STALLS.keys())
def test_stop_during_a_stalled_delivery_leaks_nothing_and_loses_nothing(leak_checked, make_gateway_fn,
                                                                        make_sink_fn, ports, stall_at):
    """Issue 18 item 12: SIGTERM while an outbound SMTP session hangs on a
    slow next hop. The queue cuts the session (socket closed, buffers
    freed) without waiting for the peer, leaves the message queued, and
    exits within the shutdown grace without a leak report; started again
    on the same spool with a healthy next hop, it delivers the message."""
    hop = _StallingHop(ports.get(), stall_at)
    healthy = make_sink_fn()
    try:
        gw = _gateway_with_stalling_hop(make_gateway_fn, hop)
        token = mwsys.unique("inflight")
        qid = mwsys.send_token(gw, token)
        assert hop.stalled.wait(mwsys.TIMEOUT), "the delivery never reached the stall"
        _stop_cuts_then_restart_delivers(gw, healthy, {qid: token}, f"the delivery stalled at {stall_at}")
    finally:
        hop.stop()


def test_stop_with_a_delivery_waiting_for_a_connection_leaks_nothing(leak_checked, make_gateway_fn, make_sink_fn,
                                                                     ports):
    """The same for a job that waits in the connection pool for a slot of
    its next hop (queue.per_destination) while another message's session
    there stalls: it is ended too, never started by the slot the stop
    frees. The first message's other recipient (a maildir) gives it a
    different next hop in the scheduler, so both rounds run."""
    hop = _StallingHop(ports.get(), "DOT")
    healthy = make_sink_fn()
    try:
        gw = _gateway_with_stalling_hop(make_gateway_fn, hop, per_destination=1)
        first, second = mwsys.unique("holding"), mwsys.unique("waiting")
        with mwsys.SmtpClient(gw.port) as c:
            assert c.greeting().code == 220
            c.ehlo()
            reply = c.transaction("a@b.test", ["user@other.test", "user@example.test"],
                                  f"Subject: {first}\r\n\r\n{first}\r\n".encode())
            c.cmd("QUIT")
        assert reply.code == 250, reply
        holding = mwsys.queue_id(reply)
        assert hop.stalled.wait(mwsys.TIMEOUT), "the first delivery never reached the stall"
        mark = gw.mark()
        waiting = mwsys.send_token(gw, second)
        gw.wait_event(proc="queue", event="client_wait", start=mark)
        _stop_cuts_then_restart_delivers(gw, healthy, {holding: first, waiting: second},
                                         "one delivery stalled and one waiting for its connection")
    finally:
        hop.stop()


DNS_STALLS = {
    "no_address_yet": False,
    "ipv4_address_in_ipv6_pending": True,
}


@pytest.mark.parametrize("answer_a", DNS_STALLS.values(), ids=DNS_STALLS.keys())
def test_stop_while_a_delivery_resolves_its_next_hop_leaks_nothing(leak_checked, make_gateway_fn, make_sink_fn,
                                                                   ports, answer_a):
    """The same while the delivery still looks up the address of its next
    hop (a static route by host name, resolved with c-ares). The stop
    cancels the lookups; a job whose IPv4 answer is in by then goes on to
    the client pool, which is stopped already and ends it at once: no
    connection is made at shutdown."""
    resolver = _StallingDns(ports.get(), answer_a)
    healthy = make_sink_fn()
    try:
        gw = make_gateway_fn(start=False, shutdown_grace=f"{SHUTDOWN_GRACE}s",
                             dns={"servers": [resolver.servers], "timeout": "60s"},
                             routes={"example.test": f"smtp://relay.stall.test:{healthy.port}"})
        _as_user(gw, "mailwarden")
        gw.start()
        token = mwsys.unique("resolving")
        qid = mwsys.send_token(gw, token)
        assert resolver.stalled.wait(mwsys.TIMEOUT), "the delivery never asked for the next hop's address"
        mark = gw.mark()
        _stop_cuts_then_restart_delivers(gw, healthy, {qid: token}, "the next hop's address lookup stalled")
        # The master stops the queue only after smtpd exited, long after
        # the A answer was in: the job met the stopped pool.
        cut = gw.events(start=mark, proc="queue", event="client_cut")
        assert [e["state"] for e in cut] == (["connect"] if answer_a else []), cut
        assert not healthy.with_token(token)[1:], "delivered twice"
    finally:
        resolver.stop()
