"""The end of the message is decided by the queue, and its verdict is a
record of the spool file (SEC-1, SCAN-2, SCAN-8): smtpd only streams the
client's bytes; the queue applies the headers and the subject prefix at
delivery, and delivery reads the message up to its committed end.

Scores come from a local zone with fixed points per client address:
127.51.0.1 = 5 (tag), 127.51.0.2 = 12 (quarantine)."""

import os
import re
import subprocess

import pytest

import mwsys

TAG, QUARANTINE = "127.51.0.1", "127.51.0.2"


@pytest.fixture(scope="module")
def sink(make_sink):
    return make_sink()


@pytest.fixture(scope="module")
def gw(make_gateway, workdir, sink):
    zone = os.path.join(workdir, "points.zone")
    with open(zone, "w") as f:
        f.write(f"{TAG} :5:\n")
    zone12 = os.path.join(workdir, "points12.zone")
    with open(zone12, "w") as f:
        f.write(f"{QUARANTINE}\n")
    os.chmod(zone, 0o644)
    os.chmod(zone12, 0o644)
    return make_gateway(
        sink=sink,
        local_domains=["example.test", "other.test", "dead.test"],
        routes={"example.test": f"smtp://127.0.0.1:{sink.port}", "dead.test": "smtp://127.0.0.1:1",
                "other.test": "maildir:maildir/other.test"},
        scan={"rbl_files": [{"file": zone, "name": "five", "points": 5},
                            {"file": zone12, "name": "twelve", "points": 12}],
              "inbound": {"checks": {"rbl_file": "score"}, "tag": 5, "subject_prefix": "[SPAM]",
                          "quarantine": 10}})


def open_session(gw, source):
    c = mwsys.SmtpClient(gw.port, source=source)
    assert c.greeting().code == 220
    assert c.ehlo().code == 250
    return c


def send_data(gw, source, rcpt, message):
    with open_session(gw, source) as c:
        return c.transaction("a@client.test", [rcpt], message)


def send_bdat(gw, source, rcpt, message):
    with open_session(gw, source) as c:
        assert c.cmd("MAIL FROM:<a@client.test>").code == 250
        assert c.cmd(f"RCPT TO:<{rcpt}>").code == 250
        c.send(f"BDAT {len(message)} LAST\r\n".encode() + message)
        return c.reply()


def added_headers(data):
    """The header lines above our Received line: what the queue added."""
    top = data.split(b"\r\nReceived: ", 1)[0] if not data.startswith(b"Received: ") else b""
    return top


def test_data_and_bdat_messages_get_the_same_verdict_headers(gw, sink):
    for how, send in (("data", send_data), ("bdat", send_bdat)):
        body = f"Subject: same-{how}\r\n\r\nsame headers {how}\r\n".encode()
        assert send(gw, TAG, "user@example.test", body).code == 250
    data_msg = sink.wait_token("same-data").data
    bdat_msg = sink.wait_token("same-bdat").data
    for msg in (data_msg, bdat_msg):
        assert msg.startswith(b"Authentication-Results: mx.gw.test; none\r\n"), msg[:200]
        assert b"X-Spam-Flag: YES\r\nX-Spam-Score: 5\r\n" in msg
    assert added_headers(data_msg) == added_headers(bdat_msg)
    assert b"\r\nSubject: [SPAM] same-data\r\n" in data_msg
    assert b"\r\nSubject: [SPAM] same-bdat\r\n" in bdat_msg


def test_message_without_final_line_end_ends_exactly_where_the_client_ended_it(gw):
    body = b"Subject: no-final-crlf\r\n\r\nthe last line has no end"
    final = send_bdat(gw, "127.51.0.9", "user@other.test", body)
    assert final.code == 250
    qid = mwsys.queue_id(final)
    gw.wait_delivered(qid)
    new = gw.path("maildir", "other.test", "new")
    files = [os.path.join(new, n) for n in os.listdir(new)]
    content = [open(p, "rb").read() for p in files]
    mine = [c for c in content if b"no-final-crlf" in c]
    assert len(mine) == 1
    assert mine[0].endswith(b"\n\nthe last line has no end"), mine[0][-80:]
    assert b"MWT1" not in mine[0]


def quarantine_cmd(gw, *args):
    return subprocess.run([gw.binary, "quarantine", "-c", gw.config_path, *args],
                          capture_output=True, timeout=10)


def test_verdict_and_headers_are_records_after_the_message_not_bytes_in_it(gw, sink):
    start = gw.mark()
    body = b"Subject: records-q\r\n\r\nbody of records-q\r\n"
    final = send_data(gw, QUARANTINE, "user@example.test", body)
    assert final.code == 250
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="queue", event="quarantined", queue_id=qid)
    raw = open(gw.path("spool", "quarantine", qid), "rb").read()
    body_at = raw.index(b"body of records-q")
    # The queue wrote the verdict and the headers after the message: the
    # client's bytes (Received header, then the message) come first.
    assert raw.count(b"X-Spam-Flag: YES") == 1
    assert raw.index(b"X-Spam-Flag: YES") > body_at
    assert raw.index(b"quarantine 12 RBL_FILE(12)") > body_at
    shown = quarantine_cmd(gw, "show", qid)
    assert shown.returncode == 0
    assert b'verdict="quarantine 12 RBL_FILE(12)"' in shown.stdout
    assert quarantine_cmd(gw, "release", qid).returncode == 0
    msg = sink.wait_token("records-q")
    # Released as received (issue 11): the records stay behind.
    assert msg.after_received() == body and b"X-Spam-Flag" not in msg.data


def test_queue_show_prints_the_verdict_and_the_scan_verdict_is_the_queues(gw):
    start = gw.mark()
    final = send_data(gw, TAG, "user@dead.test", b"Subject: show-verdict\r\n\r\nx\r\n")
    assert final.code == 250
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=qid, score="5", action="tag")
    out = subprocess.run([gw.binary, "queue", "-c", gw.config_path, "show", qid],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert re.search(r"^verdict: tag 5 RBL_FILE\(5\)$", out.stdout, re.M), out.stdout
    assert not gw.events(start=start, proc="smtpd", event="scan_verdict")
