"""Score thresholds and their actions (SCAN-2, SCAN-8): tag, quarantine
(held in spool/quarantine/ until released or deleted with
`mailwarden quarantine`), discard and refuse at the end of DATA; and
outbound mail from trusted_networks scanned under its own policy (SCAN-1).

Scores come from local zone files with fixed points, so every client
address has a known score: 127.50.2.1 = 5, .2 = 12, .3 = 22, .4 = 32,
127.0.0.10 (trusted) = 12."""

import os
import subprocess

import pytest

import mwsys
from scan_env import send, write

TAG, QUARANTINE, DISCARD, REFUSE, CLEAN = (f"127.50.2.{i}" for i in range(1, 6))
TRUSTED = "127.0.0.10"


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, workdir, sink):
    zones = []
    for points, clients in ((5, [TAG]), (12, [QUARANTINE, TRUSTED]), (22, [DISCARD]), (32, [REFUSE])):
        path = os.path.join(workdir, f"z{points}.zone")
        write(path, "".join(f"{c}\n" for c in clients))
        zones.append({"file": path, "name": f"z{points}", "points": points})
    return make_gateway(sink=sink, scan={
        "rbl_files": zones,
        "inbound": {"checks": {"rbl_file": "score"}, "tag": 5, "subject_prefix": "[SPAM]",
                    "quarantine": 10, "discard": 20,
                    "refuse": 30, "refuse_reply": "550 5.7.1 Message refused as spam"},
        "outbound": {"checks": {"rbl_file": "score"}, "tag": 3},
    })


def quarantine(gw, *args):
    return subprocess.run([gw.binary, "quarantine", "-c", gw.config_path, *args],
                          capture_output=True, text=True, timeout=10)


def queue_id(reply):
    return reply.text.rsplit(" ", 1)[-1]


def test_below_every_threshold_is_delivered_untouched(gw, sink):
    _, final = send(gw, CLEAN, "verdict-clean")
    assert final.code == 250
    msg = sink.wait_token("verdict-clean")
    assert b"X-Spam" not in msg.data
    assert b"Authentication-Results: mx.gw.test; none" in msg.data


def test_tag_threshold_adds_spam_headers(gw, sink):
    start = gw.mark()
    _, final = send(gw, TAG, "verdict-tag")
    assert final.code == 250
    msg = sink.wait_token("verdict-tag")
    assert b"X-Spam-Flag: YES\r\nX-Spam-Score: 5\r\n" in msg.data
    assert b"tests=RBL_FILE(5)" in msg.data
    assert b"\r\nSubject: [SPAM] verdict-tag\r\n" in msg.data
    gw.wait_event(start=start, event="scan_verdict", queue_id=queue_id(final), score="5",
                  action="tag", direction="inbound")


def test_quarantine_holds_the_message_until_released(gw, sink):
    start = gw.mark()
    _, final = send(gw, QUARANTINE, "verdict-quarantine")
    assert final.code == 250
    qid = queue_id(final)
    gw.wait_event(start=start, event="quarantined", queue_id=qid)
    assert os.path.exists(gw.path("spool", "quarantine", qid))
    assert not sink.with_token("verdict-quarantine")
    listed = quarantine(gw, "list")
    assert listed.returncode == 0 and qid in listed.stdout
    assert "quarantine 12 RBL_FILE(12)" in listed.stdout
    shown = quarantine(gw, "show", qid)
    assert shown.returncode == 0 and "verdict-quarantine" in shown.stdout
    released = quarantine(gw, "release", qid)
    assert released.returncode == 0, released.stderr
    msg = sink.wait_token("verdict-quarantine")
    assert b"X-Spam-" not in msg.data, "released as it was received (issue 11)"
    gw.wait_event(start=start, event="quarantine_release", queue_id=qid)
    assert qid not in quarantine(gw, "list").stdout


def test_quarantined_message_survives_a_restart_and_can_be_deleted(gw, sink):
    _, final = send(gw, QUARANTINE, "verdict-delete")
    qid = queue_id(final)
    path = gw.path("spool", "quarantine", qid)
    mwsys.wait_until(lambda: os.path.exists(path), what="the quarantined file")
    gw.restart()
    assert qid in quarantine(gw, "list").stdout
    deleted = quarantine(gw, "delete", qid)
    assert deleted.returncode == 0
    assert not os.path.exists(path)
    assert quarantine(gw, "show", qid).returncode == 1
    assert not sink.with_token("verdict-delete")


def _audit(result, command):
    event = mwsys.audit_event(result.stderr, command)
    assert event["uid"] == str(os.getuid()) and event["proc"] == "quarantine"
    return event


def test_every_quarantine_action_is_audited_with_the_acting_uid_and_the_result(gw, sink):
    """Issue 16 item 10 (Q-3): list, show, release and delete each leave
    a line naming the uid, the message and the result."""
    start = gw.mark()
    _, final = send(gw, QUARANTINE, "verdict-audit")
    qid = queue_id(final)
    gw.wait_event(start=start, event="quarantined", queue_id=qid)
    assert _audit(quarantine(gw, "list"), "quarantine list")["result"] == "ok"
    shown = _audit(quarantine(gw, "show", qid), "quarantine show")
    assert shown["queue_id"] == qid and shown["result"] == "ok"
    deleted = _audit(quarantine(gw, "delete", qid), "quarantine delete")
    assert deleted["queue_id"] == qid and deleted["result"] == "ok"
    again = _audit(quarantine(gw, "delete", qid), "quarantine delete")
    assert again["result"] == "error" and again["msg"] == "refused by the queue"
    released = _audit(quarantine(gw, "release", qid), "quarantine release")
    assert released["queue_id"] == qid and released["result"] == "error"
    refused = _audit(quarantine(gw, "delete", "../../etc/passwd"), "quarantine delete")
    assert refused["result"] == "error" and refused["msg"] == "not a queue id"


def test_quarantine_command_refuses_a_path_as_queue_id(gw):
    r = quarantine(gw, "delete", "../../etc/passwd")
    assert r.returncode == 2 and "not a queue id" in r.stderr


def test_discard_threshold_accepts_and_drops(gw, sink):
    start = gw.mark()
    _, final = send(gw, DISCARD, "verdict-discard")
    assert final.code == 250
    qid = queue_id(final)
    gw.wait_event(start=start, event="discarded", queue_id=qid)
    gw.wait_event(start=start, event="scan_verdict", queue_id=qid, score="22", action="discard")
    assert not gw.events(start=start, event="committed", queue_id=qid)
    assert not os.path.exists(gw.path("spool", "queue", qid))
    assert not os.path.exists(gw.path("spool", "quarantine", qid))


def test_refuse_threshold_refuses_at_end_of_data(gw, sink):
    start = gw.mark()
    r, final = send(gw, REFUSE, "verdict-refuse")
    assert r["rcpt"].code == 250
    assert final.code == 550 and final.text == "5.7.1 Message refused as spam"
    gw.wait_event(start=start, event="scan_verdict", client=REFUSE, score="32", action="refuse")
    assert not gw.events(start=start, event="committed", client=REFUSE)


def test_outbound_mail_is_scanned_by_the_outbound_policy(gw, sink):
    # Score 12 would be quarantined inbound; the outbound policy only tags.
    start = gw.mark()
    _, final = send(gw, TRUSTED, "verdict-outbound")
    assert final.code == 250
    msg = sink.wait_token("verdict-outbound")
    assert b"X-Spam-Score: 12" in msg.data
    assert b"\r\nSubject: verdict-outbound\r\n" in msg.data  # no prefix outbound
    gw.wait_event(start=start, event="scan_verdict", client=TRUSTED, direction="outbound",
                  score="12", action="tag")
