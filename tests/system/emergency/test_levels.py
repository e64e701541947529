"""Emergency levels at runtime (SCAN-11, issue 13): `mailwarden ctl level`
switches the real daemon between configured levels through the queue's
control socket. Each override takes effect for new sessions and reverts
on the switch back without restarting any process; a session open across
a switch keeps its level; the level survives a restart unless its --for
time is over, and a level with --for ends by itself."""

import os
import socket
import subprocess
import time

import pytest

import mwsys

# helo scores 5 points inbound; nothing refuses at level 0.
SCAN = {"inbound": {"checks": {"helo": {"action": "score", "points": 5}}}}
EMERGENCY = {
    "levels": [
        {"name": "normal"},
        {"name": "flood",
         "limits": {"recipients": 2, "message_size": "10k", "connections_per_ip": 1},
         "scan": {"inbound": {"checks": {"helo": "refuse"}}}},
        {"name": "outbreak",
         "scan": {"inbound": {"refuse": 3}}},
        {"name": "grey", "scan": {"inbound": {"checks": {"greylist": "refuse"}}}},
        {"name": "tiny", "limits": {"connections": 1}},
    ],
}
BAD_HELO = "nodots"   # not a fully qualified name: the helo check hits


@pytest.fixture
def gw(make_gateway_fn, sink):
    return make_gateway_fn(sink=sink, scan=SCAN, emergency=EMERGENCY)


def ctl(gw, *args):
    return subprocess.run([gw.binary, "ctl", "-c", gw.config_path, *args],
                          capture_output=True, text=True, timeout=10)


def switch(gw, level, *extra):
    """Switch, and wait until the smtpd has taken the level."""
    start = gw.mark()
    p = ctl(gw, "level", level, *extra)
    assert p.returncode == 0, p.stderr
    key = "emergency_level" if level.isdigit() else "name"
    gw.wait_event(proc="smtpd", event="level", start=start, **{key: level})
    return p


def status(gw):
    p = ctl(gw, "status")
    assert p.returncode == 0, p.stderr
    return dict(line.split(": ", 1) for line in p.stdout.splitlines())


def pids(gw):
    return {kind: gw.children(kind) for kind in ("queue", "scanner", "smtpd")} | {"master": gw.master_pid}


# --- one probe per kind of override: what a new session sees -------------

def third_rcpt(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        codes = [c.cmd(f"RCPT TO:<u{i}@example.test>").code for i in range(3)]
    return codes[2]


def size_advertised(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        return [line for line in c.ehlo().lines if line.startswith("SIZE")][0]


def second_connection(gw):
    source = mwsys.ADDRESSES.get()
    with mwsys.SmtpClient(gw.port, source=source) as first:
        assert first.greeting().code == 220
        with mwsys.SmtpClient(gw.port, source=source) as second:
            return second.greeting().code


def helo_check(gw):
    """The reply that first refuses a message sent with a bad HELO name,
    or the final 250."""
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        for line in (f"EHLO {BAD_HELO}", "MAIL FROM:<a@b.test>", "RCPT TO:<user@example.test>", "DATA"):
            r = c.cmd(line)
            if r.code >= 400:
                return r.code
        c.send(b"Subject: helo\r\n\r\nbody\r\n.\r\n")
        return c.reply().code


def first_rcpt_of_a_new_triplet(gw):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        assert c.cmd(f"MAIL FROM:<{mwsys.unique('grey')}@b.test>").code == 250
        return c.cmd("RCPT TO:<user@example.test>").code


def second_session_from_elsewhere(gw):
    """Whether a second client is greeted while a first one holds a
    session (limits.connections: at the cap the listener pauses, so the
    second waits unanswered rather than being refused)."""
    with mwsys.SmtpClient(gw.port) as first:
        assert first.greeting().code == 220
        with mwsys.SmtpClient(gw.port, timeout=1.0) as second:
            try:
                return second.greeting().code
            except (TimeoutError, OSError):
                return "no greeting"


OVERRIDES = [
    # (name, probe, at level 0, at the level, level)
    ("limits.recipients", third_rcpt, 250, 452, "flood"),
    ("limits.message_size", size_advertised, "SIZE 1048576", "SIZE 10240", "flood"),
    ("limits.connections_per_ip", second_connection, 220, 421, "flood"),
    ("scan.inbound.checks.helo", helo_check, 250, 550, "flood"),
    ("scan.inbound.refuse", helo_check, 250, 550, "outbreak"),
    # greylisting off as configured, on in a level: its database is
    # opened at start for the level's sake
    ("scan.inbound.checks.greylist", first_rcpt_of_a_new_triplet, 250, 451, "grey"),
    ("limits.connections", second_session_from_elsewhere, 220, "no greeting", "tiny"),
]


@pytest.mark.parametrize("name,probe,normal,emergency,level", OVERRIDES, ids=[o[0] for o in OVERRIDES])
def test_an_override_takes_effect_on_switch_and_reverts_on_switch_back_without_a_restart(
        gw, name, probe, normal, emergency, level):
    before = pids(gw)
    assert probe(gw) == normal
    switch(gw, level)
    assert probe(gw) == emergency, f"{name} at level {level}"
    switch(gw, "normal")
    assert probe(gw) == normal, f"{name} back at level 0"
    assert pids(gw) == before, "switching levels must not restart any process"


def test_the_threshold_of_a_level_refuses_at_the_end_of_data_in_the_queue(gw):
    switch(gw, "outbreak")
    start = gw.mark()
    assert helo_check(gw) == 550
    gw.wait_event(proc="queue", event="scan_verdict", action="refuse", emergency_level="2", start=start)


def test_a_session_open_across_a_switch_keeps_its_level(gw):
    with mwsys.SmtpClient(gw.port) as early:
        early.greeting()
        early.ehlo()
        switch(gw, "flood")
        # The new level is in force for a new session ...
        assert third_rcpt(gw) == 452
        # ... the one that began at level 0 still takes three recipients
        # and a bad HELO name only scores.
        assert early.cmd("MAIL FROM:<a@b.test>").code == 250
        for i in range(3):
            assert early.cmd(f"RCPT TO:<u{i}@example.test>").code == 250
        assert early.data(b"Subject: early\r\n\r\nbody\r\n").code == 250


def test_a_session_begun_under_a_level_keeps_its_threshold_after_the_switch_back(gw):
    switch(gw, "outbreak")
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.cmd(f"EHLO {BAD_HELO}")
        assert c.cmd("MAIL FROM:<a@b.test>").code == 250
        assert c.cmd("RCPT TO:<user@example.test>").code == 250
        switch(gw, "normal")
        assert c.data(b"Subject: late\r\n\r\nbody\r\n").code == 550


def test_status_says_which_level_since_when_why_and_who(gw):
    assert status(gw)["level"] == "0 normal"
    switch(gw, "1", "--reason", "mail flood from 192.0.2.0/24")
    st = status(gw)
    assert st["level"] == "1 flood"
    assert st["reason"] == "mail flood from 192.0.2.0/24"
    assert st["by"] == f"uid:{os.getuid()}"
    assert st["since"].endswith("Z") and "until" not in st
    assert st["levels"] == "0 normal, 1 flood, 2 outbreak, 3 grey, 4 tiny"


def test_every_switch_is_logged_with_who_and_why(gw):
    start = gw.mark()
    switch(gw, "outbreak", "--reason", "virus wave")
    switch(gw, "normal")
    events = gw.events(proc="queue", event="level_switch", start=start)
    assert [(e["from"], e["to"], e["reason"]) for e in events] == [
        ("normal", "outbreak", "virus wave"), ("outbreak", "normal", "")]
    assert all(e["by"] == f"uid:{os.getuid()}" for e in events)


def test_the_level_survives_a_restart(gw):
    switch(gw, "flood", "--reason", "before the restart")
    gw.restart()
    assert status(gw)["level"] == "1 flood"
    assert status(gw)["reason"] == "before the restart"
    assert third_rcpt(gw) == 452


def test_a_level_switched_on_for_2s_ends_by_itself(gw):
    start = gw.mark()
    switch(gw, "flood", "--for", "2s")
    assert "until" in status(gw)
    assert third_rcpt(gw) == 452
    gw.wait_event(proc="queue", event="level_switch", to="normal", by="expiry", start=start, timeout=5)
    gw.wait_event(proc="smtpd", event="level", name="normal", start=start)
    assert third_rcpt(gw) == 250
    assert status(gw)["level"] == "0 normal"


def test_a_level_whose_time_ran_out_while_stopped_is_not_restored(gw):
    switch(gw, "flood", "--for", "2s")
    gw.stop()
    state = gw.path("spool", "emergency.state")
    text = open(state).read()
    assert "level flood" in text
    until = int([line for line in text.splitlines() if line.startswith("until ")][0].split()[1])
    mwsys.wait_until(lambda: time.time() > until, timeout=5, what="the level's time to pass")
    gw.start()
    assert status(gw)["level"] == "0 normal"
    assert third_rcpt(gw) == 250


def test_an_unknown_level_is_refused_with_a_clear_error(gw):
    p = ctl(gw, "level", "panic")
    assert p.returncode == 2
    assert 'no emergency level "panic"' in p.stderr
    assert "levels: 0 normal, 1 flood, 2 outbreak" in p.stderr
    # The control socket itself refuses it as well (a client that skips
    # the check), and nothing changes.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(gw.path("spool", "control.sock"))
        s.sendall(b"level 7\n")
        answer = s.makefile().read()
    assert answer.startswith('error\nerror: no emergency level "7"'), answer
    assert status(gw)["level"] == "0 normal"


# --- rehearsal: judge a level on live traffic without acting on it ------------

def test_a_rehearsal_changes_no_reply_but_logs_and_counts_what_the_level_would_have_done(gw):
    start = gw.mark()
    p = ctl(gw, "level", "outbreak", "--rehearse")
    assert p.returncode == 0, p.stderr
    gw.wait_event(proc="smtpd", event="rehearsal", name="outbreak", start=start)
    assert helo_check(gw) == 250, "a rehearsal must not refuse"
    assert third_rcpt(gw) == 250
    would = gw.wait_event(proc="queue", event="rehearsal", name="outbreak", would="refuse", start=start)
    assert would["acted"] == "accept" and would["by"] == "thresholds"
    st = status(gw)
    assert st["level"] == "0 normal", "a rehearsal is not a switch"
    assert st["rehearsing"].startswith("2 outbreak since ")
    assert st["rehearsal"] == ("1 messages, 1 would have fared otherwise: refuse 1, discard 0, quarantine 0, "
                               "tag 0, accept 0")


@pytest.fixture
def deferring(sink):
    """The next hop defers: the message stays in the queue, where `queue
    show` finds its verdict record (a delivered one may be gone already)."""
    sink.replies["RCPT"] = "451 4.3.0 try later"
    yield sink
    sink.replies.pop("RCPT", None)


def test_a_rehearsed_limit_is_logged_by_smtpd_and_noted_in_the_verdict_record(gw, deferring):
    start = gw.mark()
    assert ctl(gw, "level", "flood", "--rehearse").returncode == 0
    gw.wait_event(proc="smtpd", event="rehearsal", name="flood", start=start)
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        c.ehlo()
        reply = c.transaction("a@b.test", [f"u{i}@example.test" for i in range(3)],
                              b"Subject: many\r\n\r\nbody\r\n")
    assert reply.code == 250
    gw.wait_event(proc="smtpd", event="rehearsal", would="refuse", by="limits.recipients", start=start)
    qid = mwsys.queue_id(reply)
    gw.wait_event(proc="queue", event="rehearsal", queue_id=qid, would="refuse", by="limits.recipients",
                  start=start)
    shown = subprocess.run([gw.binary, "queue", "-c", gw.config_path, "show", qid],
                           capture_output=True, text=True, timeout=10).stdout
    assert "rehearsal flood: refuse (limits.recipients)" in shown


def test_level_0_rehearse_ends_the_rehearsal(gw):
    assert ctl(gw, "level", "flood", "--rehearse").returncode == 0
    start = gw.mark()
    assert ctl(gw, "level", "0", "--rehearse").returncode == 0
    gw.wait_event(proc="smtpd", event="rehearsal", name="normal", start=start)
    assert "rehearsing" not in status(gw)
    assert third_rcpt(gw) == 250
    assert not gw.events(proc="smtpd", event="rehearsal", would="refuse", start=start)
