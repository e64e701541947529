"""Working the quarantine (issue 11; SCAN-8, Q-3): release delivers the held
message byte for byte as it was received (to all its recipients, or to
some of them), delete removes it, every action is logged and stored with
the Unix user who gave it (and the name given with --by), the index
spool/quarantine.db survives a restart and is rebuilt from the held files
when it is lost or out of step, and the digest tells each recipient what
was held for them.

Scores come from a local zone: 127.53.0.1 scores 12 (quarantine at 10)."""

import os
import pwd
import re
import sqlite3
import subprocess
import time

import pytest

import mwsys

HELD = "127.53.0.1"


def scan_section(workdir):
    path = os.path.join(workdir, "held.zone")
    with open(path, "w") as f:
        f.write(f"{HELD}\n")
    os.chmod(path, 0o644)
    return {"rbl_files": [{"file": path, "name": "held", "points": 12}],
            "inbound": {"checks": {"rbl_file": "score"}, "quarantine": 10}}


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, workdir):
    return make_gateway(sink=sink, scan=scan_section(workdir),
                        queue={"quarantine_digest": True, "quarantine_digest_from": "digest@gw.test",
                               "quarantine_digest_max": 2})


def me():
    return pwd.getpwuid(os.getuid()).pw_name


def hold(gw, rcpts, data, sender="alice@sender.test"):
    """Send data (bytes, CRLF, not stuffed) from the scoring address; the
    queue id once it is quarantined."""
    start = gw.mark()
    with mwsys.SmtpClient(gw.port, source=HELD) as c:
        assert c.greeting().code == 220 and c.ehlo().code == 250
        final = c.transaction(sender, rcpts, mwsys.stuff(data))
    assert final.code == 250, final
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="queue", event="quarantined", queue_id=qid)
    return qid


def quarantine(gw, *args):
    return subprocess.run([gw.binary, "quarantine", "-c", gw.config_path, *args], capture_output=True,
                          timeout=20)


def listed(gw):
    import json
    r = quarantine(gw, "list", "--json")
    assert r.returncode == 0, r.stderr
    return {m["id"]: m for m in json.loads(r.stdout)}


def actions(gw, qid):
    with sqlite3.connect(gw.path("spool", "quarantine.db")) as db:
        return db.execute("SELECT what, by, operator, detail FROM action WHERE id = ? ORDER BY rowid",
                          (qid,)).fetchall()


# Bytes a relay could easily change: folded and odd headers, a dot line,
# trailing spaces, a bare long line, 8-bit text, no final Subject.
ODD = (b"Subject: =?utf-8?q?held?=\r\nX-Folded: one\r\n\ttwo  \r\nFrom: <alice@sender.test>\r\n\r\n"
       b".leading dot\r\n.\r\n trailing space \r\n" + b"x" * 900 + b"\r\n\xc3\xa9t\xc3\xa9\r\n")


def test_release_delivers_exactly_the_bytes_received(gw, sink):
    token = mwsys.unique("rel")
    data = ODD.replace(b"held", token.encode())
    qid = hold(gw, ["user@example.test"], data)
    assert qid in listed(gw)
    start = gw.mark()
    r = quarantine(gw, "release", qid)
    assert r.returncode == 0, r.stderr
    new = re.search(rb"as ([0-9A-F]{16})", r.stdout).group(1).decode()
    ev = gw.wait_event(start=start, proc="queue", event="quarantine_release", queue_id=qid)
    assert ev["by"] == me() and ev["new_queue_id"] == new and ev["to"] == "user@example.test"
    gw.wait_delivered(new, start=start)
    got = sink.wait_token(token)
    # The gateway's own Received: line (README) is the only difference:
    # no X-Spam-* headers, no subject prefix, nothing re-encoded.
    assert got.after_received() == data
    assert got.rcpt_tos == ["user@example.test"] and got.mail_from == "alice@sender.test"
    assert not os.path.exists(gw.path("spool", "quarantine", qid))
    assert qid not in listed(gw)
    assert actions(gw, qid) == [("release", me(), None, f"{new} to user@example.test")]


def test_release_to_some_recipients_keeps_it_held_for_the_others(gw, sink):
    token = mwsys.unique("part")
    qid = hold(gw, ["one@example.test", "two@example.test"], f"Subject: {token}\r\n\r\nbody\r\n".encode())
    r = quarantine(gw, "release", qid, "--to", "TWO@example.test", "--by", "alice")
    assert r.returncode == 0, r.stderr
    assert b"still held for the others" in r.stdout
    first = sink.wait_token(token)
    assert first.rcpt_tos == ["two@example.test"]
    m = listed(gw)[qid]
    assert m["recipients"] == ["one@example.test", "two@example.test"] and m["released_to"] == ["two@example.test"]
    again = quarantine(gw, "release", qid, "--to", "two@example.test")
    assert again.returncode == 1 and b"not a held recipient" in again.stderr, "released once only"
    stranger = quarantine(gw, "release", qid, "--to", "boss@example.test")
    assert stranger.returncode == 1 and b"not a held recipient" in stranger.stderr
    rest = quarantine(gw, "release", qid)
    assert rest.returncode == 0, rest.stderr
    msgs = sink.wait_for(lambda m: token.encode() in m.data, count=2)
    assert sorted(m.rcpt_tos[0] for m in msgs) == ["one@example.test", "two@example.test"]
    assert qid not in listed(gw)
    assert [(a[0], a[1], a[2]) for a in actions(gw, qid)] == [("release", me(), "alice"), ("release", me(), None)]


def test_delete_removes_the_message_and_records_who(gw, sink):
    token = mwsys.unique("del")
    qid = hold(gw, ["user@example.test"], f"Subject: {token}\r\n\r\nbody\r\n".encode())
    start = gw.mark()
    r = quarantine(gw, "delete", qid, "--by", "bob")
    assert r.returncode == 0, r.stderr
    ev = gw.wait_event(start=start, proc="queue", event="quarantine_delete", queue_id=qid)
    assert ev["by"] == me() and ev["operator"] == "bob"
    assert not os.path.exists(gw.path("spool", "quarantine", qid)) and qid not in listed(gw)
    assert actions(gw, qid) == [("delete", me(), "bob", None)]
    gone = quarantine(gw, "release", qid)
    assert gone.returncode == 1 and b"not in the quarantine" in gone.stderr
    assert not sink.with_token(token)


def test_by_takes_one_word_and_an_unknown_id_is_refused_by_the_queue(gw):
    r = quarantine(gw, "delete", "0123456789ABCDEF", "--by", "two words")
    assert r.returncode == 2 and b"usage" in r.stderr
    r = quarantine(gw, "delete", "0123456789ABCDEF", "--by", "carol")
    assert r.returncode == 1 and b"0123456789ABCDEF: not in the quarantine" in r.stderr


def digests_to(sink, rcpt, after):
    return [m for m in sink.messages[after:] if m.rcpt_tos == [rcpt] and b"Subject: Messages held in quarantine" in m.data]


def test_digest_lists_what_was_held_for_each_recipient(gw, sink):
    quarantine(gw, "digest", "--now")  # what earlier tests held is listed here, not below
    subjects = {k: mwsys.unique(k) for k in ("a", "b", "c", "d")}
    ids = {}
    for key, rcpts in (("a", ["dig1@example.test"]), ("b", ["dig1@example.test", "dig2@example.test"]),
                       ("c", ["dig2@example.test"]), ("d", ["dig1@example.test"])):
        ids[key] = hold(gw, rcpts, f"Subject: {subjects[key]}\r\n\r\nbody\r\n".encode(),
                        sender=f"{key}@sender.test")
        time.sleep(1.05)  # arrival is kept in seconds: a, b, c, d in this order
    after = len(sink.messages)
    r = quarantine(gw, "digest", "--now")
    assert r.returncode == 0 and b"2 mail(s) queued" in r.stdout, (r.stdout, r.stderr)
    one = sink.wait_for(lambda m: m.rcpt_tos == ["dig1@example.test"] and b"quarantine" in m.data)[0]
    two = sink.wait_for(lambda m: m.rcpt_tos == ["dig2@example.test"] and b"quarantine" in m.data)[0]
    assert one.mail_from == "digest@gw.test" and b"From: <digest@gw.test>" in one.data
    assert b"Auto-Submitted: auto-generated" in one.data
    # dig1: a, b and d held; at most 2 listed (queue.quarantine_digest_max), oldest first.
    assert b"3 messages addressed to you were held" in one.data
    for key in ("a", "b"):
        assert ids[key].encode() in one.data and subjects[key].encode() in one.data
    assert ids["d"].encode() not in one.data and b"and 1 more not listed here" in one.data
    assert ids["c"].encode() not in one.data and b"<a@sender.test>" in one.data
    # dig2: b and c.
    assert ids["b"].encode() in two.data and ids["c"].encode() in two.data and ids["a"].encode() not in two.data
    assert b"score 12" in two.data and b"and 1 more" not in two.data
    # Listed once: the next digest has nothing for them.
    later = len(sink.messages)
    r = quarantine(gw, "digest", "--now")
    assert r.returncode == 0 and b"0 mail(s) queued" in r.stdout
    time.sleep(1)
    assert not digests_to(sink, "dig1@example.test", later)


def test_index_survives_a_restart_and_is_rebuilt_from_the_files(make_gateway_fn, make_sink_fn, tmp_path):
    tmp_path.chmod(0o755)
    gw = make_gateway_fn(sink=make_sink_fn(), scan=scan_section(str(tmp_path)))
    kept = hold(gw, ["user@example.test"], b"Subject: kept\r\n\r\nbody\r\n")
    ghost = hold(gw, ["user@example.test"], b"Subject: ghost\r\n\r\nbody\r\n")
    gw.stop()
    os.unlink(gw.path("spool", "quarantine", ghost))  # a row without its file
    start = gw.mark()
    gw.start()
    ev = gw.wait_event(start=start, proc="queue", event="quarantine_index_synced")
    assert (ev["held"], ev["added"], ev["removed"]) == ("1", "0", "1")
    assert set(listed(gw)) == {kept}
    gw.stop()
    for suffix in ("", "-wal", "-shm"):
        path = gw.path("spool", "quarantine.db" + suffix)
        if os.path.exists(path):
            os.unlink(path)
    start = gw.mark()
    gw.start()
    ev = gw.wait_event(start=start, proc="queue", event="quarantine_index_synced")
    assert (ev["held"], ev["added"], ev["removed"]) == ("1", "1", "0")
    m = listed(gw)[kept]
    assert m["subject"] == "kept" and m["score"] == 12 and m["direction"] == "inbound"
    assert m["recipients"] == ["user@example.test"]


def test_expiry_removes_file_and_index_row(make_gateway_fn, make_sink_fn, tmp_path):
    tmp_path.chmod(0o755)
    gw = make_gateway_fn(sink=make_sink_fn(), scan=scan_section(str(tmp_path)), queue={"quarantine_expiry": "2s"})
    qid = hold(gw, ["user@example.test"], b"Subject: old\r\n\r\nbody\r\n")
    ev = gw.wait_event(proc="queue", event="quarantine_expired", queue_id=qid, timeout=15)
    assert ev["by"] == "expiry"
    assert not os.path.exists(gw.path("spool", "quarantine", qid)) and qid not in listed(gw)
    assert actions(gw, qid) == [("expire", "expiry", None, None)]


def test_the_digest_goes_out_on_its_schedule(make_gateway_fn, make_sink_fn, tmp_path):
    tmp_path.chmod(0o755)
    sink = make_sink_fn()
    gw = make_gateway_fn(sink=sink, scan=scan_section(str(tmp_path)),
                         queue={"quarantine_digest": True, "quarantine_digest_interval": "2s"})
    qid = hold(gw, ["sched@example.test"], b"Subject: on schedule\r\n\r\nbody\r\n")
    ev = gw.wait_event(proc="queue", event="quarantine_digest", to="sched@example.test", timeout=15)
    assert ev["by"] == "schedule" and ev["listed"] == "1"
    got = sink.wait_for(lambda m: m.rcpt_tos == ["sched@example.test"])[0]
    assert qid.encode() in got.data and b"Subject: on schedule" in got.data
    assert got.mail_from == "postmaster@mx.gw.test"
