"""Seccomp filters (SEC-1, issue 15): smtpd and the scanner end their
start-up by loading a filter of the system calls they use (src/sandbox/);
any other call kills the process with SIGSYS, the master logs it by name
and starts the child again. security.seccomp: false leaves the filter off
and says so.

The forbidden call on demand is a test hook (src/sandbox/trip.c): with
MW_TEST_SECCOMP_TRIP in the environment, a build with the tests
(MW_BUILD_TESTS, as make build and make build-asan are) makes SIGUSR2
call syslog(2), which no filter allows. The package has no such hook."""

import os
import signal

import pytest

import mwsys

CONFINED = ("smtpd", "scanner")


def _ready(gw, child, start=None):
    """The pid of child once it has said ready (its filter is loaded by then)."""
    event = gw.wait_event(proc=child, event="ready", start=start)
    return int(event["_pid"])


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    os.environ["MW_TEST_SECCOMP_TRIP"] = "1"
    try:
        gateway = make_gateway(sink=sink)
    finally:
        del os.environ["MW_TEST_SECCOMP_TRIP"]
    for child in CONFINED:
        _ready(gateway, child)
    return gateway


@pytest.mark.parametrize("child", CONFINED)
def test_the_child_runs_under_a_seccomp_filter(gw, child):
    pid = gw.pid(child)
    assert mwsys.proc_status(pid)["Seccomp"] == "2", "no filter (2 = SECCOMP_MODE_FILTER)"
    on = gw.wait_event(proc=child, event="seccomp_on")
    assert int(on["_pid"]) == pid
    assert int(on["syscalls"]) >= 30, on   # the count of allowed calls, logged before the load


def test_the_queue_and_the_master_are_not_filtered(gw):
    """The filter is for the processes that read hostile bytes; the queue
    and master open files at any time (issue 15 covers smtpd and scanner)."""
    assert mwsys.proc_status(gw.pid("queue"))["Seccomp"] == "0"
    assert mwsys.proc_status(gw.master_pid)["Seccomp"] == "0"


@pytest.mark.parametrize("child", CONFINED)
def test_a_forbidden_syscall_kills_the_child_and_the_master_restarts_it(gw, sink, child):
    victim = gw.pid(child)
    mark = gw.mark()
    gw.expected_dead.add(victim)
    os.kill(victim, signal.SIGUSR2)
    exited = gw.wait_event(proc="master", event="child_exited", pid=str(victim), start=mark)
    # The administrator reads the signal's name, and what it means.
    assert exited["status"] == "signal 31 (SIGSYS)", exited
    assert "seccomp" in exited["hint"], exited
    gw.wait_event(proc="master", event="restarting", child=child, start=mark)
    spawned = gw.wait_event(proc="master", event="spawned", child=child, start=mark)
    fresh = int(spawned["pid"])
    assert fresh != victim
    assert _ready(gw, child, start=mark) == fresh
    assert mwsys.proc_status(fresh)["Seccomp"] == "2"
    # The gateway serves on, through the new child.
    gw.wait_event(proc=child, event="queue_connected", start=mark)
    token = mwsys.unique(f"seccomp-{child}")
    mwsys.send_token(gw, token)
    sink.wait_token(token)


def test_security_seccomp_false_runs_unfiltered_and_warns(make_gateway, sink):
    gw = make_gateway(sink=sink, security={"seccomp": False})
    for child in CONFINED:
        pid = _ready(gw, child)
        off = gw.wait_event(proc=child, event="seccomp_off")
        assert off["level"] == "warning" and "security.seccomp" in off["msg"], off
        assert mwsys.proc_status(pid)["Seccomp"] == "0"
    assert gw.events(event="seccomp_on") == []
