"""Resource exhaustion (issue 14, catalogue case 156, SEC-4): the two runs
of the catalogue text that test_slowloris.py, test_slow_reader.py and
test_descriptor_exhaustion.py leave out.

- A memory limit of 256 MB (a memory cgroup made by the test, memcg.py)
  and 1 000 sessions, idle after their EHLO (idle_sessions.py, shared
  with the attack suite's section 8): every one is served, a normal
  message sent while they are open gets its 250 and arrives, an idle
  session costs the group at most 32 KiB, nothing is OOM-killed and the
  master and its children keep their pids; once the sessions are closed,
  mail still flows.
- `ulimit -n 64` (soft and hard, procs.start_with_nofile) and 10 000
  connection attempts, 200 at a time: the master starts and says that
  the limit is below what limits.connections needs; each attempt gets
  220, 421 4.3.2 or waits in the backlog (back-pressure on accept, never
  a refused connection); the master and smtpd survive, the log holds a
  line per pause at most, and a normal message is delivered afterwards.
  Before the fix the queue kept 256 spool files staged and open
  (src/queue/spool_pool.c) and so ran out itself: every message got
  451 4.3.0 and the queue lost its channel to the master, which
  restarted it; now it stages a quarter of its limit at most.

Both print their figures (run pytest -s to see them); they are also
recorded as properties of the test (junit XML).
"""

import errno
import selectors
import socket
import time
from collections import Counter

import pytest

import idle_sessions
import mwsys
from idle_sessions import client_fds, memory_cgroup  # noqa: F401 (fixtures)
from load import source_addresses
from procs import start_with_nofile

NOFILE = 64
ATTEMPTS = 10_000
ATTEMPT_BATCH = 200
ATTEMPT_PER_IP = 10           # the default per-IP cap: one batch's share of an address
ANSWER_SECONDS = 0.5          # a batch's wait for greetings; silence then is the backlog
FLOOD_SECONDS = 300


def _report(record_property, name, value, lines):
    """Figures for the lead: printed (pytest -s) and recorded (junit)."""
    record_property(name, value)
    for line in lines:
        print(f"case 156: {line}")


@pytest.fixture
def sink(make_sink_fn):
    return make_sink_fn()


def _deliver(gw, sink, what):
    """One normal message: 250, and it arrives at the sink."""
    token = mwsys.unique(what)
    mwsys.send_token(gw, token)
    sink.wait_token(token, timeout=30)


@pytest.fixture
def gw_in_cgroup(memory_cgroup, make_gateway_fn, sink):
    """A gateway whose every process is in memory_cgroup (set up first, so
    it is removed after the gateway has stopped)."""
    gw = make_gateway_fn(sink=sink, start=False, log={"target": "stderr", "format": "kv", "level": "info"},
                         limits=idle_sessions.GATEWAY_LIMITS)
    gw.command_prefix = memory_cgroup.command_prefix()
    return gw.start()


def test_case_156_a_thousand_idle_sessions_in_a_256_mb_memory_cgroup(gw_in_cgroup, memory_cgroup, sink,
                                                                      client_fds, record_property):
    """SEC-4, case 156: 1 000 idle sessions under a 256 MB memory limit."""
    gw = gw_in_cgroup
    assert memory_cgroup.limit() == idle_sessions.LIMIT
    sources = source_addresses(idle_sessions.SESSIONS, idle_sessions.PER_IP, prefix="127.67")
    figures = idle_sessions.run(gw, memory_cgroup, sources, lambda what: _deliver(gw, sink, what))
    _report(record_property, "idle_sessions", {k: v for k, v in figures.items() if not k.startswith("parts")},
            idle_sessions.describe(figures))
    idle_sessions.assert_within_bounds(gw, figures)


# --------------------------------------------------------------------------
# ulimit -n 64


@pytest.fixture
def gw_64(make_gateway_fn, sink):
    """A gateway under RLIMIT_NOFILE 64 whose limits.connections asks for
    far more: the descriptors, not the cap, are what runs out."""
    gw = make_gateway_fn(sink=sink, start=False, log={"target": "stderr", "format": "kv", "level": "info"},
                         limits={"connections": 2000, "connections_per_ip": ATTEMPT_PER_IP})
    return start_with_nofile(gw, NOFILE)


def knock(port, sources, wait):
    """One connection attempt from each source address, all at once, each
    closed after the first bytes of its answer or after wait seconds; the
    outcomes: "220", "421 4.3.2" (the first three digits and the enhanced
    code of other answers), "backlog" (nothing within wait: the
    connection waits to be accepted), "closed" (ended without a word),
    "refused"."""
    outcomes = Counter()
    selector = selectors.DefaultSelector()
    socks = []
    try:
        for source in sources:
            s = socket.socket()
            socks.append(s)
            s.setblocking(False)
            s.bind((source, 0))
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, errno.EINPROGRESS):
                outcomes["refused" if err == errno.ECONNREFUSED else errno.errorcode[err]] += 1
                continue
            selector.register(s, selectors.EVENT_READ)
        deadline = time.monotonic() + wait
        while selector.get_map() and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=max(0.0, deadline - time.monotonic())):
                outcomes[_answer(key.fileobj)] += 1
                selector.unregister(key.fileobj)
        outcomes["backlog"] += len(selector.get_map())
    finally:
        selector.close()
        for s in socks:
            s.close()
    return outcomes


def _answer(sock):
    try:
        data = sock.recv(512)
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "closed"
    if not data:
        return "closed"
    words = data.split(b"\r\n", 1)[0].decode("ascii", "replace").split()
    if words and words[0] == "421" and len(words) > 1:
        return f"421 {words[1]}"
    return words[0] if words else "closed"


def _served(port):
    """Does a fresh connection get its 220 (within a few seconds)?"""
    try:
        with mwsys.SmtpClient(port, timeout=3) as c:
            return c.greeting().code == 220
    except (OSError, mwsys.Closed):
        return False


def test_case_156_ten_thousand_connection_attempts_under_ulimit_n_64(gw_64, sink, record_property):
    """SEC-4, case 156: ulimit -n 64 and 10 000 connection attempts."""
    gw = gw_64
    warning = gw.wait_event(proc="master", event="fd_limit", start=0)
    assert int(warning["limit"]) == NOFILE, warning
    master, smtpd = gw.master_pid, gw.pid("smtpd")
    mark = gw.mark()

    outcomes = Counter()
    sources = source_addresses(ATTEMPTS, ATTEMPT_PER_IP, prefix="127.68")
    t0 = time.monotonic()
    for first in range(0, ATTEMPTS, ATTEMPT_BATCH):
        assert time.monotonic() - t0 < FLOOD_SECONDS, f"{first} attempts took over {FLOOD_SECONDS} s"
        outcomes += knock(gw.port, sources[first:first + ATTEMPT_BATCH], ANSWER_SECONDS)
    took = time.monotonic() - t0
    pauses = len(gw.events(start=mark, proc="smtpd", event="accept_error"))
    _report(record_property, "attempts_under_nofile_64", dict(outcomes),
            [f"{ATTEMPTS} connection attempts under RLIMIT_NOFILE {NOFILE} in {took:.1f} s: {dict(outcomes)}; "
             f"{pauses} accept_error lines"])

    assert sum(outcomes.values()) == ATTEMPTS
    assert set(outcomes) <= {"220", "421 4.3.2", "backlog"}, \
        f"answers other than 220, 421 4.3.2 and back-pressure: {dict(outcomes)}"
    assert outcomes["220"] > 0, "no attempt was served at all"
    # The limit must really have been reached, or the test proves nothing.
    assert outcomes["backlog"] > 0 and pauses > 0, f"smtpd never ran out of descriptors: {dict(outcomes)}"
    # One line per pause of a second at most: no log flood.
    assert pauses <= took + 5, f"{pauses} accept_error lines in {took:.0f} s"

    mwsys.wait_until(lambda: _served(gw.port), timeout=30, what="a fresh connection served after the flood")
    _deliver(gw, sink, "after-flood")
    assert gw.running() and gw.pid("smtpd") == smtpd and mwsys.pid_alive(smtpd) and gw.master_pid == master
    assert not gw.events(proc="master", event="child_exited"), "a child exited during the flood"
