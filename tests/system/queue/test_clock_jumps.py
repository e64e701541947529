"""Steps of the wall clock (issue 18 item 10, src/queue/qclock.h): retry
times and the lifetime follow the monotonic clock, so a step forward does
not bounce a message as expired and a step back does not stall its retries.

The daemon runs under libfaketime (Debian's libfaketime), which shifts only
its wall clock (FAKETIME_DONT_FAKE_MONOTONIC) by the offset in a file the
test rewrites; the machine's clock is never touched."""

import os

import pytest

import mwsys

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class WallClock:
    """The daemon's wall-clock offset, as libfaketime reads it on every call."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "faketime")
        self.step("+0")

    def step(self, offset):
        with open(self.path + ".new", "w") as f:
            f.write(offset + "\n")
        os.chmod(self.path + ".new", 0o644)
        os.replace(self.path + ".new", self.path)

    def environ(self):
        # ASan wants to be the first library; libfaketime is preloaded before it.
        asan = os.environ.get("ASAN_OPTIONS", mwsys.SANITIZER_ENV["ASAN_OPTIONS"]) + ":verify_asan_link_order=0"
        return {"LD_PRELOAD": LIBFAKETIME, "FAKETIME_TIMESTAMP_FILE": self.path, "FAKETIME_NO_CACHE": "1",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1", "ASAN_OPTIONS": asan}


@pytest.fixture
def faked(make_gateway_fn, make_sink_fn, monkeypatch):
    """A gateway whose wall clock the test steps, and its (stopped) sink."""
    if not os.path.exists(LIBFAKETIME):
        pytest.skip(f"{LIBFAKETIME} is missing (Debian package libfaketime)")
    sink = make_sink_fn(start=False)
    # libfaketime is preloaded into every process, smtpd and the scanner
    # too, and calls unlink(2) there, which their seccomp filters do not
    # allow (it kills them): off here, where the clock is the subject.
    gw = make_gateway_fn(start=False, sink=sink, security={"seccomp": False},
                         queue={"retry_min": "1s", "retry_max": "1s", "lifetime": "1h"})
    clock = WallClock(gw.workdir)
    for key, value in clock.environ().items():
        monkeypatch.setenv(key, value)
    gw.start()
    return gw, sink, clock


def _deferred_once(gw):
    token = mwsys.unique("clock")
    qid = mwsys.send_token(gw, token)
    gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid, attempt="1")
    return qid, token


def test_a_forward_step_of_the_wall_clock_bounces_nothing(faked):
    gw, sink, clock = faked
    qid, token = _deferred_once(gw)
    mark = gw.mark()
    clock.step("+2d")      # past the 1h lifetime by the wall clock
    # The next round finds the message queued for seconds, not two days.
    gw.wait_event(start=mark, proc="queue", event="retry_scheduled", queue_id=qid, attempt="2")
    sink.start()
    sink.wait_token(token)
    assert not gw.events(proc="queue", event="dsn_queued"), "the message bounced as expired"


def test_a_backward_step_of_the_wall_clock_does_not_stall_retries(faked):
    gw, sink, clock = faked
    qid, token = _deferred_once(gw)
    mark = gw.mark()
    clock.step("-1d")
    # Due one (monotonic) second later, not once the wall clock is back.
    gw.wait_event(start=mark, proc="queue", event="retry_scheduled", queue_id=qid, attempt="2")
    sink.start()
    sink.wait_token(token)
