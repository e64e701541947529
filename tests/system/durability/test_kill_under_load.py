"""kill -9 under load: no message answered 250 is lost (Q-1, SEC-4).

Issue 6: keep durability exactly as strong as before, and prove it while
the daemon is busy, with the scanner process in the path of every
message (issue 10). Twelve client threads send messages continuously (a
unique token in the Subject of each, several per connection, bounded in
time and count) to a gateway that routes them to an aiosmtpd sink on
loopback. After a second, at a moment when messages are being received
(files in spool/tmp), are queued (files in spool/queue that the sink has
not seen) and are being delivered (the sink's count is still rising), one
process gets SIGKILL:

- master: its children follow it (PR_SET_PDEATHSIG); once every process
  of this gateway is gone the gateway is started again on the same state
  directory, while the clients keep trying;
- queue: the master restarts the queue alone and hands each running smtpd
  a channel to the new one (transactions on the old channel get 451); the
  clients keep going through the same smtpd processes;
- scanner: the master restarts it alone; the messages it was scanning get
  451 (never 250 unscanned), the next ones are scanned by the new one;
- all: master, queue, scanner and smtpd at the same instant (what "systemctl kill
  -s KILL" of the whole service does), so that no process gets to stop in
  order (the master alone lets PR_SET_PDEATHSIG's SIGTERM stop its
  children); then restarted like the master.

Then, once the load is over:

- every token answered 250 arrives at the sink (zero lost), at most twice
  (a delivery in flight at the kill is repeated once: spool.h, recovery),
  and no more tokens twice than queue.delivery_concurrency (the deliveries
  that can be in flight);
- no token whose client never handed the final "." to its socket arrives
  (a half-received message is never delivered); a message whose dot was
  sent but whose reply never came may arrive or not, both are correct;
- nothing is left in spool/tmp, spool/queue or spool/corrupt, and the
  spool/tmp files the kill left behind are gone once the queue is ready.

Each test starts its own daemon and sink, because it kills them.
"""

import itertools
import os
import re
import signal
import threading
import time

import pytest

import mwsys

CLIENTS = 12
LOAD_SECONDS = 4.0       # the clients stop starting messages after this
MAX_MESSAGES = 3000      # hard cap on tokens per test
PER_CONNECTION = 6       # messages per SMTP connection, then QUIT
KILL_AFTER = 1.0         # at least this long under load before the kill
STATES_WAIT = 3.0        # then up to this long for a moment with every state
DRAIN_TIMEOUT = 60.0     # for the sink to get every acknowledged token
SPOOL_TIMEOUT = 20.0     # for spool/queue and spool/tmp to empty afterwards

TOKEN = re.compile(rb"^Subject: (kl-[0-9a-z-]+)\r$", re.M)


# --------------------------------------------------------------------------
# The load


class Ledger:
    """What every client did with every token, shared by the threads."""

    def __init__(self, run):
        self.run = run
        self.lock = threading.Lock()
        self.counter = itertools.count()
        self.issued = 0
        self.acked = {}          # token -> queue id (answered 250)
        self.refused = {}        # token -> reply (answered, not 250, dot sent)
        self.dot_unsent = {}     # token -> why (the final "." never left the client)
        self.dot_no_reply = {}   # token -> why (dot sent, connection broke before a reply)
        self.connect_errors = 0
        self.errors = []         # unexpected exceptions in the client threads

    def token(self):
        """A new token, or None when the cap is reached."""
        with self.lock:
            if self.issued >= MAX_MESSAGES:
                return None
            self.issued += 1
            return f"kl-{self.run}-{next(self.counter)}"

    def record(self, table, token, value):
        with self.lock:
            table[token] = value

    def count_acked(self):
        with self.lock:
            return len(self.acked)


def _body(token, n):
    """A message of about 0.5 to 15 KB, so that DATA takes a while for some."""
    lines = 8 + (n * 37) % 300
    text = (f"Subject: {token}\r\nMessage-ID: <{token}@client.test>\r\n"
            f"From: a@b.test\r\nTo: user@example.test\r\n\r\n")
    text += "".join(f"line {i} of {token} under load\r\n" for i in range(lines))
    return text.encode()


class Client(threading.Thread):
    """Sends messages until the deadline or the cap; reconnects after any
    broken connection. Every token ends in exactly one ledger table."""

    def __init__(self, port, ledger, deadline):
        super().__init__(daemon=True)
        self.port = port
        self.ledger = ledger
        self.deadline = deadline
        self.source = mwsys.ADDRESSES.get()

    def run(self):
        try:
            while time.monotonic() < self.deadline:
                if not self._connection():
                    return
        except Exception as e:   # a bug in the test itself
            with self.ledger.lock:
                self.ledger.errors.append(f"{self.source}: {e!r}")

    def _connect(self):
        try:
            c = mwsys.SmtpClient(self.port, source=self.source)
        except OSError:
            # The master is dead (no listener) or its backlog is full:
            # try again shortly, until the deadline.
            with self.ledger.lock:
                self.ledger.connect_errors += 1
            time.sleep(mwsys.POLL)
            return None
        try:
            if c.greeting().code != 220 or c.ehlo().code != 250:
                c.close()
                return None
        except (mwsys.Closed, OSError, AssertionError):
            c.close()
            return None
        return c

    def _connection(self):
        """One connection, up to PER_CONNECTION messages. False when the cap
        is reached."""
        c = self._connect()
        if c is None:
            return True
        try:
            for _ in range(PER_CONNECTION):
                if time.monotonic() >= self.deadline:
                    break
                token = self.ledger.token()
                if token is None:
                    return False
                if not self._message(c, token):
                    return True
            try:
                c.cmd("QUIT")
            except (mwsys.Closed, OSError, AssertionError):
                pass
            return True
        finally:
            c.close()

    def _message(self, c, token):
        """One transaction; False if the connection is no longer usable."""
        n = int(token.rsplit("-", 1)[1])
        ledger = self.ledger
        dot_sent = False
        try:
            # Anything but the expected reply (a 421 while the daemon
            # stops, say): give up this connection and open a new one.
            for line, want in (("MAIL FROM:<a@b.test>", 250), ("RCPT TO:<user@example.test>", 250),
                               ("DATA", 354)):
                r = c.cmd(line)
                if r.code != want:
                    ledger.record(ledger.dot_unsent, token, f"{line.split()[0]} {r}")
                    return False
            body = _body(token, n)
            half = len(body) // 2
            c.send(body[:half])
            c.send(body[half:])
            c.send(b".\r\n")
            dot_sent = True
            r = c.reply()
        except (mwsys.Closed, OSError, AssertionError) as e:
            table = ledger.dot_no_reply if dot_sent else ledger.dot_unsent
            ledger.record(table, token, repr(e))
            return False
        if r.code == 250:
            ledger.record(ledger.acked, token, mwsys.queue_id(r))
            return True
        ledger.record(ledger.refused, token, repr(r))
        return r.code != 421


def _start_load(port, ledger, seconds):
    deadline = time.monotonic() + seconds
    clients = [Client(port, ledger, deadline) for _ in range(CLIENTS)]
    for client in clients:
        client.start()
    return clients, deadline


def _join_load(clients, deadline):
    # A client may be waiting for one reply (REPLY_TIMEOUT) when the
    # deadline comes.
    for client in clients:
        client.join(max(0.0, deadline - time.monotonic()) + mwsys.REPLY_TIMEOUT * 2 + 5)
    stuck = [c.source for c in clients if c.is_alive()]
    assert not stuck, f"client threads {stuck} did not finish"


# --------------------------------------------------------------------------
# Spool and processes


def _entries(gw, sub):
    path = gw.path("spool", sub)
    return set(os.listdir(path)) if os.path.isdir(path) else set()


def _receiving(gw):
    """Messages being received: the non-empty files in spool/tmp (the empty
    ones are staged for the next messages, src/queue/spool_pool.h)."""
    path = gw.path("spool", "tmp")
    found = set()
    for name in _entries(gw, "tmp"):
        try:
            if os.path.getsize(os.path.join(path, name)) > 0:
                found.add(name)
        except FileNotFoundError:
            pass  # committed or removed meanwhile
    return found


def _sink_tokens(sink):
    """token -> how many times the sink received it."""
    with sink.cond:
        datas = [m.data for m in sink.messages]
    counts = {}
    for data in datas:
        m = TOKEN.search(data)
        if m:
            token = m.group(1).decode()
            counts[token] = counts.get(token, 0) + 1
    return counts


def _gateway_pids(gw):
    """Live processes of this gateway: every one of them (master, queue,
    smtpd, forked without exec) carries the config path in its command line."""
    needle = gw.config_path.encode()
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if needle in argv and mwsys.pid_alive(int(name)):
            pids.append(int(name))
    return pids


def _wait_every_state(gw, sink, ledger, started):
    """Wait until KILL_AFTER has passed and, at one moment, messages are
    being received, queued and delivered. Returns what was seen then."""
    mwsys.wait_until(lambda: time.monotonic() - started >= KILL_AFTER, timeout=KILL_AFTER + 1,
                     what="the load to run for a while")
    last_sink = len(sink.messages)
    deadline = time.monotonic() + STATES_WAIT
    seen = {}
    while True:
        tmp = _receiving(gw)
        queued = _entries(gw, "queue")
        at_sink = len(sink.messages)
        seen = {"tmp": len(tmp), "queue": len(queued), "acked": ledger.count_acked(),
                "at_sink": at_sink, "sink_rising": at_sink > last_sink}
        if tmp and queued and seen["acked"] > at_sink and at_sink > last_sink:
            return seen
        last_sink = at_sink
        if time.monotonic() >= deadline:
            return seen
        time.sleep(mwsys.POLL / 4)


# --------------------------------------------------------------------------
# Fixtures and tests


@pytest.fixture
def sink(make_sink_fn):
    return make_sink_fn()


# The scanner process is in the path of every message (issue 10): a
# content check that scores, thresholds that never act.
SCAN_EVERYTHING = {"inbound": {"checks": {"headers": {"action": "score", "points": 1}}},
                   "outbound": {"checks": {"headers": {"action": "score", "points": 1}}}}


@pytest.fixture
def gw(make_gateway_fn, sink):
    return make_gateway_fn(sink=sink, limits={"connections": 200, "connections_per_ip": 20},
                           scan=SCAN_EVERYTHING)


def _kill_master_and_restart(gw, children_too=False):
    if children_too:
        # All at the same instant: stop every process first (children,
        # then the master), so that none runs another instruction (no
        # 421 to a client, no PR_SET_PDEATHSIG SIGTERM handled), then
        # SIGKILL them. By pid, only this gateway's processes.
        children = [p for p in gw.children("queue") + gw.children("smtpd") + gw.children("scanner")
                    if mwsys.pid_alive(p)]
        for pid in children + [gw.master_pid]:
            os.kill(pid, signal.SIGSTOP)
        gw.kill(signal.SIGKILL, "master")
        for pid in children:
            gw.expected_dead.add(pid)
            os.kill(pid, signal.SIGKILL)
    else:
        gw.kill(signal.SIGKILL, "master")
    assert gw.wait_exit() == -signal.SIGKILL
    mwsys.wait_until(lambda: not _gateway_pids(gw), timeout=mwsys.TIMEOUT,
                     what="every process of the gateway to exit after the master was killed")
    left_in_tmp = _entries(gw, "tmp")
    gw.start()
    return left_in_tmp


def _kill_queue(gw):
    old = gw.pid("queue")
    mark = gw.mark()
    before = _entries(gw, "tmp")
    gw.kill(signal.SIGKILL, "queue")
    # What the dead queue left in tmp/: there before the kill and after
    # its last thread is gone (a new queue names its files anew).
    mwsys.wait_until(lambda: not mwsys.pid_alive(old), timeout=mwsys.TIMEOUT, what=f"queue {old} to die")
    left_in_tmp = before & _entries(gw, "tmp")
    gw.wait_event(proc="master", event="child_exited", child="queue", pid=old, start=mark)
    spawned = gw.wait_event(proc="master", event="spawned", child="queue", start=mark)
    assert int(spawned["pid"]) != old
    gw.wait_event(proc="queue", event="ready", start=mark)
    gw.wait_event(proc="smtpd", event="queue_connected", start=mark)
    return left_in_tmp


def _kill_scanner(gw):
    old = gw.pid("scanner")
    mark = gw.mark()
    gw.kill(signal.SIGKILL, "scanner")
    mwsys.wait_until(lambda: not mwsys.pid_alive(old), timeout=mwsys.TIMEOUT, what=f"scanner {old} to die")
    spawned = gw.wait_event(proc="master", event="spawned", child="scanner", start=mark)
    assert int(spawned["pid"]) != old
    gw.wait_event(proc="queue", event="scanner_connected", start=mark)
    return set()


@pytest.mark.parametrize("victim", ["master", "queue", "scanner", "all"])
def test_no_acknowledged_message_is_lost_when_killed_under_load(gw, sink, victim, request):
    request.node._mw_keep = True   # the work directory and log, unless it passes
    ledger = Ledger(f"{os.getpid()}-{time.monotonic_ns() % 10**9}")
    started = time.monotonic()
    clients, deadline = _start_load(gw.port, ledger, LOAD_SECONDS)
    try:
        at_kill = _wait_every_state(gw, sink, ledger, started)
        killed_at = time.monotonic() - started
        if victim == "master":
            stale_tmp = _kill_master_and_restart(gw)
        elif victim == "all":
            stale_tmp = _kill_master_and_restart(gw, children_too=True)
        elif victim == "scanner":
            stale_tmp = _kill_scanner(gw)
        else:
            stale_tmp = _kill_queue(gw)
        # The queue is ready: recovery has cleaned what the kill left in tmp/.
        assert not stale_tmp & _entries(gw, "tmp"), \
            f"spool/tmp files from before the kill survived recovery: {stale_tmp & _entries(gw, 'tmp')}"
        back_at = time.monotonic() - started
    finally:
        _join_load(clients, deadline)
    assert not ledger.errors, f"client threads failed: {ledger.errors}"
    acked = dict(ledger.acked)
    summary = (f"{victim} killed at {killed_at:.1f}s with {at_kill}, back at {back_at:.1f}s; "
               f"tokens issued={ledger.issued} acked={len(acked)} refused={len(ledger.refused)} "
               f"dot_unsent={len(ledger.dot_unsent)} dot_no_reply={len(ledger.dot_no_reply)} "
               f"connect_errors={ledger.connect_errors}")
    # The test proves something only if the kill hit a busy gateway.
    assert at_kill["queue"] and at_kill["acked"] > at_kill["at_sink"] and at_kill["at_sink"], summary
    assert len(acked) >= 50, summary
    assert ledger.issued == (len(acked) + len(ledger.refused) + len(ledger.dot_unsent)
                             + len(ledger.dot_no_reply)), summary

    # Zero lost: every 250 arrives (bounded wait).
    def all_arrived():
        counts = _sink_tokens(sink)
        return counts if all(t in counts for t in acked) else None

    try:
        counts = mwsys.wait_until(all_arrived, timeout=DRAIN_TIMEOUT,
                                  what="every acknowledged token at the sink")
    except TimeoutError:
        counts = None
    if counts is None:
        counts = _sink_tokens(sink)
        lost = sorted((t, acked[t]) for t in acked if t not in counts)
        trail = "\n".join(line for line in gw.log.lines(0)
                          if any(qid in line for _, qid in lost[:3]))
        pytest.fail(f"{len(lost)} acknowledged messages lost: {lost[:20]}\n{summary}\n"
                    f"log lines of the first ones:\n{trail}\n(log: {gw.log.path})", pytrace=False)

    # The queue empties: whatever was acknowledged or may have been
    # committed is delivered and removed; receiving files are gone.
    def spool_empty():
        return not _entries(gw, "queue") and not _receiving(gw)

    try:
        mwsys.wait_until(spool_empty, timeout=SPOOL_TIMEOUT, what="spool/queue and spool/tmp to empty")
    except TimeoutError:
        pass
    if not spool_empty():
        pytest.fail(f"spool not empty: queue={sorted(_entries(gw, 'queue'))[:20]} "
                    f"tmp={sorted(_entries(gw, 'tmp'))[:20]}\n{summary}", pytrace=False)
    assert _entries(gw, "corrupt") == set(), summary
    counts = _sink_tokens(sink)

    duplicates = {t: n for t, n in counts.items() if n > 1}
    unanswered = sum(1 for t in list(ledger.refused) + list(ledger.dot_no_reply) if t in counts)
    summary += (f"; at sink={len(counts)} (of them sent in full but not acknowledged: {unanswered}) "
                f"duplicates={len(duplicates)}")
    print(f"\n{summary}; done at {time.monotonic() - started:.1f}s")
    too_many = {t: n for t, n in duplicates.items() if n > 2}
    assert not too_many, f"delivered more than twice (one kill: at most one repeat): {too_many}\n{summary}"
    # A duplicate is a delivery in flight at the kill, repeated after it:
    # no more than the queue delivers at once.
    assert len(duplicates) <= gw.config["queue"]["delivery_concurrency"], \
        f"more duplicates than deliveries can be in flight: {sorted(duplicates)}\n{summary}"

    # A message whose final dot never left the client is never delivered.
    half = sorted(t for t in ledger.dot_unsent if t in counts)
    assert not half, f"messages delivered although their DATA never ended: {half[:20]}\n{summary}"
    # Every token at the sink is one of ours and was at least sent in full.
    unknown = sorted(t for t in counts if t not in acked and t not in ledger.dot_no_reply
                     and t not in ledger.refused)
    assert not unknown, f"tokens at the sink that no client sent in full: {unknown[:20]}\n{summary}"
    request.node._mw_keep = False
