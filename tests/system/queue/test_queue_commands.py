"""Queue administration (Q-3): every `mailwarden queue` subcommand does
what it says, through the queue's control socket, and is logged."""

import json
import os
import stat
import subprocess

import pytest

import mwsys


@pytest.fixture(scope="module")
def gw(make_gateway, sink):
    # Long retries: a deferred message stays put until the test flushes it.
    return make_gateway(sink=sink, queue={"retry_min": "1h", "retry_max": "1h"})


def queue_cmd(gw, *args, ok=True):
    p = subprocess.run([gw.binary, "queue", "-c", gw.config_path, *args],
                       capture_output=True, text=True, timeout=10)
    if ok:
        assert p.returncode == 0, f"queue {args}: {p.returncode} {p.stderr}"
    return p


def _send(gw, token, rcpts=("user@example.test",)):
    with mwsys.SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        reply = c.transaction("sender@example.org", list(rcpts),
                              f"Subject: {token}\r\nX-Token: {token}\r\n\r\nbody\r\n".encode())
        c.cmd("QUIT")
    assert reply.code == 250, reply
    return mwsys.queue_id(reply)


@pytest.fixture
def deferred(gw, sink):
    """A message the sink refused with 451: it waits in the queue."""
    sink.replies["DATA"] = "451 4.3.0 not now"
    token = mwsys.unique("admin")
    start = gw.mark()
    qid = _send(gw, token)
    gw.wait_event(proc="queue", event="retry_scheduled", queue_id=qid, start=start)
    sink.replies.pop("DATA")
    return qid, token


def test_control_socket_is_only_for_root_and_the_queue_user(gw):
    st = os.stat(gw.path("spool", "control.sock"))
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660


def test_list_shows_id_age_size_sender_recipients_next_try_and_last_error(gw, deferred):
    qid, _ = deferred
    text = queue_cmd(gw, "list").stdout
    line = [l for l in text.splitlines() if l.startswith(qid)][0]
    assert "<sender@example.org>" in line and "queued" in line
    assert "user@example.test" in text and "451 4.3.0 not now" in text
    entries = {e["id"]: e for e in json.loads(queue_cmd(gw, "list", "--json").stdout)}
    e = entries[qid]
    assert e["sender"] == "sender@example.org"
    assert e["recipients"] == [{"address": "user@example.test", "status": "pending",
                                "last_reply": "451 4.3.0 not now"}]
    assert e["size"] > 0 and e["age"] >= 0 and e["next_try"] > 3000
    assert e["last_error"] == "451 4.3.0 not now"
    queue_cmd(gw, "delete", qid)


def test_show_prints_envelope_and_headers(gw, deferred):
    qid, token = deferred
    out = queue_cmd(gw, "show", qid).stdout
    assert f"id: {qid}" in out
    assert "sender: <sender@example.org>" in out
    assert "recipient: <user@example.test> pending (451 4.3.0 not now)" in out
    assert f"X-Token: {token}" in out
    assert "body" not in out.split(f"X-Token: {token}")[1]   # headers only
    queue_cmd(gw, "delete", qid)


def test_flush_delivers_a_waiting_message_now(gw, sink, deferred):
    qid, token = deferred
    start = gw.mark()
    assert "flushed 1 message" in queue_cmd(gw, "flush", qid).stdout
    sink.wait_token(token)
    gw.wait_delivered(qid, start=start)


def test_flush_without_id_flushes_everything(gw, sink, deferred):
    qid, token = deferred
    assert "flushed" in queue_cmd(gw, "flush").stdout
    sink.wait_token(token)


def test_hold_keeps_a_message_until_release(gw, sink, deferred):
    qid, token = deferred
    assert queue_cmd(gw, "hold", qid).stdout.strip() == f"held {qid}"
    assert os.path.exists(gw.path("spool", "hold", qid))
    assert not os.path.exists(gw.path("spool", "queue", qid))
    entry = [e for e in json.loads(queue_cmd(gw, "list", "--json").stdout) if e["id"] == qid][0]
    assert entry["state"] == "held"
    p = queue_cmd(gw, "flush", qid, ok=False)
    assert p.returncode == 1 and "held" in p.stderr
    assert not sink.with_token(token)
    start = gw.mark()
    assert queue_cmd(gw, "release", qid).stdout.strip() == f"released {qid}"
    sink.wait_token(token)
    gw.wait_delivered(qid, start=start)


def test_held_message_stays_held_across_a_restart(make_gateway_fn, make_sink_fn):
    down = make_sink_fn(start=False)
    gw2 = make_gateway_fn(sink=down, queue={"retry_min": "1h", "retry_max": "1h"})
    token = mwsys.unique("heldrestart")
    qid = _send(gw2, token)
    gw2.wait_event(proc="queue", event="retry_scheduled", queue_id=qid)
    queue_cmd(gw2, "hold", qid)
    down.start()
    gw2.restart()
    gw2.wait_event(proc="queue", event="recovered", queue_id=qid, held="yes")
    entry = [e for e in json.loads(queue_cmd(gw2, "list", "--json").stdout) if e["id"] == qid][0]
    assert entry["state"] == "held"
    assert not down.with_token(token)
    queue_cmd(gw2, "release", qid)
    down.wait_token(token)


def test_delete_removes_the_message(gw, sink, deferred):
    qid, token = deferred
    assert queue_cmd(gw, "delete", qid).stdout.strip() == f"deleted {qid}"
    assert not os.path.exists(gw.path("spool", "queue", qid))
    assert qid not in queue_cmd(gw, "list").stdout
    p = queue_cmd(gw, "show", qid, ok=False)
    assert p.returncode == 1 and "no message" in p.stderr


def test_every_command_is_logged(gw):
    start = gw.mark()
    queue_cmd(gw, "list")
    queue_cmd(gw, "show", "0123456789ABCDEF", ok=False)
    gw.wait_event(proc="queue", event="control", command="list", result="ok", start=start)
    gw.wait_event(proc="queue", event="control", command="show 0123456789ABCDEF", result="error", start=start)


_audit = mwsys.audit_event


def test_every_command_is_audited_with_the_acting_uid_and_the_result(gw, make_gateway_fn):
    """Issue 16 item 10: the acting uid, the command and its result, also
    when the queue refuses or cannot be reached at all."""
    listed = _audit(queue_cmd(gw, "list").stderr, "queue list")
    assert listed["uid"] == str(os.getuid()) and listed["result"] == "ok" and listed["proc"] == "queuectl"
    shown = _audit(queue_cmd(gw, "show", "0123456789ABCDEF", ok=False).stderr, "queue show 0123456789ABCDEF")
    assert shown["uid"] == str(os.getuid()) and shown["result"] == "error"
    stopped = make_gateway_fn(start=False)
    stopped.write_config()
    p = queue_cmd(stopped, "flush", ok=False)
    gone = _audit(p.stderr, "queue flush")
    assert p.returncode == 1 and gone["result"] == "error" and gone["msg"]


@pytest.mark.parametrize("args", [[], ["list", "--xml"], ["show"], ["hold", "../../etc/passwd"],
                                  ["delete", "0123"], ["frobnicate", "0123456789ABCDEF"]])
def test_bad_usage_is_refused_before_reaching_the_queue(gw, args):
    p = queue_cmd(gw, *args, ok=False)
    assert p.returncode == 2 and "usage" in p.stderr


@pytest.mark.parametrize("data", [b"x" * 5000, b"list\x00--json\n", b"\xff\xfe\n", b"show ../../../etc/passwd\n",
                                  b"flush " + b"A" * 200 + b"\n", b"list --json extra words\n"])
def test_hostile_control_input_is_refused_and_the_queue_survives(gw, data):
    import socket
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(gw.path("spool", "control.sock"))
        s.sendall(data)
        answer = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except ConnectionResetError:
            pass
    assert not answer.startswith(b"ok\n"), answer
    assert queue_cmd(gw, "list").returncode == 0   # still serving
