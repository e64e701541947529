"""Rehearsing a level's check actions (SCAN-11, issue 13): under
`mailwarden ctl level N --rehearse` a hit of a check that the rehearsed
level would make refuse (an SMTP-time check in smtpd, a content check in
the scanner) or quarantine (a content check) changes no reply and no
delivery, but is logged, noted in the verdict record and counted by
`ctl status`, as the rehearsed level's limits and thresholds already
were."""

import subprocess

import pytest

import mwsys
from test_levels import ctl, deferring, status  # noqa: F401 (deferring: a fixture) as the level tests use them

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

# Level 0 only scores both checks, too little to tag.
SCAN = {"inbound": {"checks": {"helo": {"action": "score", "points": 1},
                               "gtube": {"action": "score", "points": 1}},
                    "tag": 50}}
EMERGENCY = {
    "levels": [
        {"name": "normal"},
        {"name": "strict", "scan": {"inbound": {"checks": {"helo": "refuse"}}}},
        {"name": "outbreak", "scan": {"inbound": {"checks": {"gtube": "refuse"}}}},
        {"name": "hold", "scan": {"inbound": {"checks": {"gtube": "quarantine"}}}},
    ],
}
BAD_HELO = "nodots"   # not a fully qualified name: the helo check hits


@pytest.fixture
def gw(make_gateway_fn, sink):
    return make_gateway_fn(sink=sink, scan=SCAN, emergency=EMERGENCY)


def rehearse(gw, level):
    start = gw.mark()
    p = ctl(gw, "level", level, "--rehearse")
    assert p.returncode == 0, p.stderr
    gw.wait_event(proc="smtpd", event="rehearsal", name=level, start=start)
    return start


def send(gw, helo="mail.sender.test", body="nothing special"):
    with mwsys.SmtpClient(gw.port) as c:
        c.greeting()
        assert c.cmd(f"EHLO {helo}").code == 250
        return c.transaction("a@b.test", ["user@example.test"],
                             f"Subject: rehearsal\r\n\r\n{body}\r\n".encode())


def shown(gw, qid):
    return subprocess.run([gw.binary, "queue", "-c", gw.config_path, "show", qid],
                          capture_output=True, text=True, timeout=10).stdout


def test_an_smtp_time_check_the_rehearsed_level_would_refuse_by_is_noted_not_acted_on(gw, deferring):
    start = rehearse(gw, "strict")
    reply = send(gw, helo=BAD_HELO)
    assert reply.code == 250, "a rehearsal must not refuse"
    qid = mwsys.queue_id(reply)
    gw.wait_event(proc="smtpd", event="rehearsal", would="refuse", by="checks", check="helo", start=start)
    e = gw.wait_event(proc="queue", event="rehearsal", queue_id=qid, start=start)
    assert (e["acted"], e["would"], e["by"]) == ("accept", "refuse", "checks.helo")
    assert "rehearsal strict: refuse (checks.helo)" in shown(gw, qid)


def test_a_clean_session_under_the_same_rehearsal_is_judged_the_same(gw):
    start = rehearse(gw, "strict")
    qid = mwsys.queue_id(send(gw))
    e = gw.wait_event(proc="queue", event="rehearsal", queue_id=qid, start=start)
    assert e["would"] == "same", "only a hit of the check counts"


@pytest.mark.parametrize("level, would", [("outbreak", "refuse"), ("hold", "quarantine")])
def test_a_content_check_the_rehearsed_level_would_act_on_is_noted_and_counted(gw, deferring, level, would):
    start = rehearse(gw, level)
    reply = send(gw, body=GTUBE)
    assert reply.code == 250, "a rehearsal must not refuse"
    qid = mwsys.queue_id(reply)
    gw.wait_event(proc="scanner", event="rehearsal", queue_id=qid, would=would, check="gtube", start=start)
    e = gw.wait_event(proc="queue", event="rehearsal", queue_id=qid, start=start)
    assert (e["acted"], e["would"], e["by"]) == ("accept", would, "content.gtube")
    assert f"rehearsal {level}: {would} (content.gtube)" in shown(gw, qid)
    counts = status(gw)["rehearsal"]
    assert counts.startswith("1 messages, 1 would have fared otherwise") and f"{would} 1" in counts
