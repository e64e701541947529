"""The limit of open files (issue 14, load; issue 15, the unit's
LimitNOFILE): started with the soft limit of 1024 or less that systemd and
shells give, the master raises it toward the hard limit before it forks,
so smtpd has room for limits.connections sessions; when the hard limit
is too low for them it says so (event=fd_limit) instead of failing later
with "Too many open files" under load."""

import shutil

import pytest

import mwsys

pytestmark = pytest.mark.skipif(not shutil.which("prlimit"), reason="prlimit (util-linux) is not installed")


def soft_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        line = next(l for l in f if l.startswith("Max open files"))
    return int(line.split()[3])


def started_under(make_gateway_fn, nofile, connections, sink=None):
    gw = make_gateway_fn(start=False, sink=sink, limits={"connections": connections})
    gw.command_prefix = ["prlimit", f"--nofile={nofile}", "--"]
    gw.start()
    return gw


def test_the_soft_limit_is_raised_for_the_children(make_gateway_fn, make_sink_fn):
    sink = make_sink_fn()
    gw = started_under(make_gateway_fn, "256:8192", 1000, sink)
    assert soft_limit(gw.master_pid) >= 2256
    assert soft_limit(gw.pid("smtpd")) >= 2256, "the children inherit the room"
    assert not gw.events(proc="master", event="fd_limit")
    assert mwsys.send_message(gw, b"Subject: fd-limit\r\n\r\nx\r\n").code == 250
    sink.wait_token("fd-limit")


def test_a_hard_limit_too_low_for_limits_connections_is_said(make_gateway_fn):
    gw = started_under(make_gateway_fn, "256:600", 1000)
    e = gw.wait_event(proc="master", event="fd_limit")
    assert e["limit"] == "600" and e["needed"] == "2256", e
    assert "LimitNOFILE" in e["msg"]
    assert soft_limit(gw.master_pid) == 600
