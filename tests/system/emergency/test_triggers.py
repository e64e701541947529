"""Automatic emergency levels (SCAN-11, issue 13): a level with a trigger
is raised by the queue once its condition has held for `for` and lowered
once it has been clear for `clear_for`; a condition that comes and goes
faster switches nothing. Each automatic switch is logged with the
measured value and the threshold, recorded in the level state (`by:
trigger`) and announced by a notice mail to emergency.notify. A level set
by hand is the floor: a trigger raises above it and lowers back to it,
never below."""

import os
import shutil
import socket
import subprocess
import time

import pytest

import mwsys

HOLD = 2        # seconds: "for" of both triggers
CLEAR = 2       # seconds: "clear_for"
EMERGENCY = {
    "notify": "admin@example.test",
    "levels": [
        {"name": "normal"},
        {"name": "backlog", "limits": {"recipients": 50},
         "trigger": {"queue_depth": 3, "for": f"{HOLD}s", "clear_for": f"{CLEAR}s"}},
        {"name": "crowd", "limits": {"recipients": 20},
         "trigger": {"sessions": 3, "for": f"{HOLD}s", "clear_for": f"{CLEAR}s"}},
        {"name": "rush", "limits": {"recipients": 10},
         "trigger": {"received_per_minute": 8, "for": "1s", "clear_for": "1m"}},
    ],
}


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn, ports):
    sink = make_sink_fn()
    # slow.test goes to a port nobody listens on: its mail stays queued.
    dead = ports.get()
    routes = {"example.test": f"smtp://127.0.0.1:{sink.port}", "slow.test": f"smtp://127.0.0.1:{dead}"}
    g = make_gateway_fn(local_domains=["example.test", "slow.test"], routes=routes, emergency=EMERGENCY,
                        queue={"retry_min": "1h", "retry_max": "2h"})
    g.sink = sink
    return g


def ctl(gw, *args):
    return subprocess.run([gw.binary, "ctl", "-c", gw.config_path, *args],
                          capture_output=True, text=True, timeout=10)


def queue_cmd(gw, *args):
    p = subprocess.run([gw.binary, "queue", "-c", gw.config_path, *args],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    return p.stdout


def status(gw):
    p = ctl(gw, "status")
    assert p.returncode == 0, p.stderr
    return p.stdout


def field(text, key):
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line).get(key)


def fill_queue(gw, n):
    """n messages to the dead next hop; their queue ids."""
    return [mwsys.send_token(gw, mwsys.unique("slow"), rcpt="user@slow.test") for _ in range(n)]


def open_sessions(gw, n):
    """n SMTP sessions, each greeted (so smtpd counts it)."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        assert s.recv(512).startswith(b"220")
        socks.append(s)
    return socks


def close_all(socks):
    for s in socks:
        s.close()


def test_a_queue_depth_trigger_raises_its_level_after_for_and_lowers_it_after_clear_for(gw):
    start = gw.mark()
    ids = fill_queue(gw, 3)
    full = time.monotonic()
    up = gw.wait_event(proc="queue", event="level_switch", to="backlog", start=start, timeout=15)
    raised = time.monotonic()
    assert raised - full >= HOLD - 0.3, "raised before the condition held for its 'for' time"
    assert up["by"] == "trigger"
    assert up["reason"] == "queue_depth 3 >= 3"
    trig = gw.wait_event(proc="queue", event="level_trigger", direction="up", start=start)
    assert trig["condition"] == "queue_depth 3 >= 3" and trig["to"] == "backlog"
    text = status(gw)
    assert field(text, "level") == "1 backlog"
    assert field(text, "by") == "trigger"
    assert field(text, "reason") == "queue_depth 3 >= 3"
    assert "trigger 1 backlog: active" in text

    start = gw.mark()
    for qid in ids:
        queue_cmd(gw, "delete", qid)
    emptied = time.monotonic()
    down = gw.wait_event(proc="queue", event="level_switch", to="normal", start=start, timeout=15)
    assert time.monotonic() - emptied >= CLEAR - 0.3, "lowered before the condition was clear for 'clear_for'"
    assert down["by"] == "trigger"
    assert down["reason"] == "queue_depth 0 < 3"
    assert field(status(gw), "level") == "0 normal"


def test_each_automatic_switch_sends_the_admin_a_notice_mail_with_the_measured_value(gw):
    start = gw.mark()
    ids = fill_queue(gw, 3)
    gw.wait_event(proc="queue", event="level_notice", to="admin@example.test", start=start, timeout=15)
    [mail] = gw.sink.wait_for(lambda m: b"raised by trigger" in m.data)
    assert mail.rcpt_tos == ["admin@example.test"]
    assert mail.mail_from == "postmaster@mx.gw.test"
    text = mail.data.decode()
    assert "Subject: emergency level 1 backlog raised by trigger on mx.gw.test" in text
    assert "Measured:      queue_depth 3 >= 3" in text
    assert "From level:    0 normal" in text
    for qid in ids:
        queue_cmd(gw, "delete", qid)
    [down] = gw.sink.wait_for(lambda m: b"lowered by trigger" in m.data)
    assert "Measured:      queue_depth 0 < 3" in down.data.decode()


def test_a_condition_that_comes_and_goes_faster_than_for_switches_nothing(gw):
    start = gw.mark()
    # Three sessions for 0.6 s, none for 0.8 s, for three times "for"
    # (the queue samples four times a second: it sees every gap).
    until = time.monotonic() + 3 * HOLD
    while time.monotonic() < until:
        socks = open_sessions(gw, 3)
        time.sleep(0.6)
        close_all(socks)
        time.sleep(0.8)
    time.sleep(1)
    assert gw.events(proc="queue", event="level_switch", start=start) == []
    assert field(status(gw), "level") == "0 normal"
    # The same load held: the level goes up, so the oscillation above was a real test.
    socks = open_sessions(gw, 3)
    try:
        up = gw.wait_event(proc="queue", event="level_switch", to="crowd", start=start, timeout=15)
        assert up["reason"] == "sessions 3 >= 3"
        # Once up, gaps shorter than clear_for do not lower it.
        mark = gw.mark()
        for _ in range(3):
            close_all(socks)
            time.sleep(0.6)
            socks = open_sessions(gw, 3)
            time.sleep(0.6)
        assert gw.events(proc="queue", event="level_switch", start=mark) == []
    finally:
        close_all(socks)
    gw.wait_event(proc="queue", event="level_switch", to="normal", start=start, timeout=15)


def test_a_level_set_by_hand_is_not_lowered_when_a_trigger_clears(gw):
    p = ctl(gw, "level", "backlog", "--reason", "by hand")
    assert p.returncode == 0, p.stderr
    start = gw.mark()
    # A trigger above it raises and, once clear, lowers back to the level set by hand.
    socks = open_sessions(gw, 3)
    gw.wait_event(proc="queue", event="level_switch", to="crowd", start=start, timeout=15)
    text = status(gw)
    assert field(text, "by") == "trigger"
    assert field(text, "set by hand") == "1 backlog (a trigger lowers the level back to it)"
    close_all(socks)
    down = gw.wait_event(proc="queue", event="level_switch", to="backlog", start=start, timeout=15)
    assert down["by"] == "trigger"
    text = status(gw)
    assert field(text, "level") == "1 backlog"
    assert field(text, "by").startswith("uid:")
    assert field(text, "reason") == "by hand"
    # backlog's own trigger (queue depth) is clear all along: it does not lower a level set by hand.
    mark = gw.mark()
    time.sleep(CLEAR + 2)
    assert gw.events(proc="queue", event="level_switch", start=mark) == []
    assert field(status(gw), "level") == "1 backlog"


def test_a_level_a_trigger_raised_survives_a_restart_and_is_lowered_only_after_clear_for(gw):
    start = gw.mark()
    ids = fill_queue(gw, 3)
    gw.wait_event(proc="queue", event="level_switch", to="backlog", start=start, timeout=15)
    mark = gw.mark()
    gw.restart()  # waits until it is ready
    # The queued messages are still there after the restart: the level stays, it does not flap.
    time.sleep(HOLD + CLEAR)
    assert gw.events(proc="queue", event="level_switch", start=mark) == []
    text = status(gw)
    assert field(text, "level") == "1 backlog"
    assert field(text, "by") == "trigger"
    for qid in ids:
        queue_cmd(gw, "delete", qid)
    cleared = time.monotonic()
    gw.wait_event(proc="queue", event="level_switch", to="normal", start=mark, timeout=15)
    assert time.monotonic() - cleared >= CLEAR - 0.3


def test_a_rate_of_received_messages_raises_its_level(gw):
    start = gw.mark()
    for _ in range(8):
        mwsys.send_token(gw, mwsys.unique("rush"))
    up = gw.wait_event(proc="queue", event="level_switch", to="rush", start=start, timeout=15)
    assert up["by"] == "trigger"
    assert up["reason"] == "received_per_minute 8 >= 8"
    assert "trigger 3 rush: active (received_per_minute 8 >= 8)" in status(gw)


def test_free_space_on_the_spool_is_measured_and_raises_its_level_below_the_threshold(make_gateway_fn):
    # No disk is this large: the condition holds as soon as statvfs has measured the spool.
    plan = {"notify": "admin@example.test",
            "levels": [{"name": "normal"},
                       {"name": "disk", "limits": {"message_size": "100k"},
                        "trigger": {"spool_free_below": f"{2 ** 50}", "for": "1s", "clear_for": "1m"}}]}
    gw = make_gateway_fn(emergency=plan)
    up = gw.wait_event(proc="queue", event="level_switch", to="disk", timeout=15)
    measured, _, threshold = up["reason"].removeprefix("spool_free ").partition(" < ")
    assert threshold == str(2 ** 50)
    assert 0 < int(measured) < 2 ** 50


EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SHIPPED_YARA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "rules", "yara")


def test_a_share_of_mail_with_malware_findings_raises_its_level(make_gateway_fn, tmp_path):
    rules = tmp_path / "yara"
    shutil.copytree(SHIPPED_YARA, rules)
    os.chmod(tmp_path, 0o755)
    plan = {"levels": [{"name": "normal"},
                       {"name": "outbreak", "limits": {"message_size": "100k"},
                        "trigger": {"malware_share": {"percent": 50, "minutes": 1, "min_messages": 2},
                                    "for": "1s", "clear_for": "1m"}}]}
    gw = make_gateway_fn(emergency=plan, scan={"yara": {"rules": str(rules)}})
    start = gw.mark()
    clean = mwsys.send_message(gw, b"Subject: clean\r\n\r\nnothing here\r\n", rcpt="user@other.test")
    assert clean.code == 250, clean
    time.sleep(2)
    assert gw.events(proc="queue", event="level_switch", start=start) == [], "one clean message raised it"
    infected = mwsys.send_message(gw, b"Subject: eicar\r\n\r\n" + EICAR + b"\r\n", rcpt="user@other.test")
    assert infected.code == 554, infected  # yara refuses inbound malware; it counts all the same
    up = gw.wait_event(proc="queue", event="level_switch", to="outbreak", start=start, timeout=15)
    assert up["reason"] == "malware_share 50% >= 50%"
