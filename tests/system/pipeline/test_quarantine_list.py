"""The quarantine as administrators work with it (issue 11; SCAN-8):
`quarantine list` shows what is held, oldest first, with the decoded
Subject and the score, filtered by sender, recipient, age and score, as
text or --json; quarantined messages are deleted after
queue.quarantine_expiry (logged `quarantine_expired`).

Scores come from a local zone: 127.52.0.1 scores 12 (quarantine at 10),
127.52.0.2 scores 20, 127.52.0.3 12.5 (points have two decimals)."""

import json
import os
import subprocess
import time

import pytest

import mwsys

TWELVE, TWENTY, TWELVE_AND_A_HALF = "127.52.0.1", "127.52.0.2", "127.52.0.3"


def zone(workdir, name, addr):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(f"{addr}\n")
    os.chmod(path, 0o644)
    return path


def scan_section(workdir):
    return {"rbl_files": [{"file": zone(workdir, "z12.zone", TWELVE), "name": "twelve", "points": 12},
                          {"file": zone(workdir, "z20.zone", TWENTY), "name": "twenty", "points": 20},
                          {"file": zone(workdir, "z12.5.zone", TWELVE_AND_A_HALF), "name": "half",
                           "points": "12.5"}],
            "inbound": {"checks": {"rbl_file": "score"}, "quarantine": 10}}


@pytest.fixture(scope="module")
def gw(make_gateway, make_sink, workdir):
    return make_gateway(sink=make_sink(), scan=scan_section(workdir))


def hold(gw, source, sender, rcpt, subject):
    start = gw.mark()
    with mwsys.SmtpClient(gw.port, source=source) as c:
        assert c.greeting().code == 220 and c.ehlo().code == 250
        final = c.transaction(sender, [rcpt], b"Subject: " + subject + b"\r\n\r\nheld\r\n")
    assert final.code == 250, final
    qid = mwsys.queue_id(final)
    gw.wait_event(start=start, proc="queue", event="quarantined", queue_id=qid)
    return qid


def quarantine(gw, *args):
    r = subprocess.run([gw.binary, "quarantine", "-c", gw.config_path, *args], capture_output=True, text=True,
                       timeout=10)
    return r


def test_list_shows_subject_and_score_and_filters(gw):
    a = hold(gw, TWELVE, "alice@sender.test", "user@example.test", b"=?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Bern")
    time.sleep(1.1)  # arrival is kept in seconds
    b = hold(gw, TWENTY, "bob@spam.test", "boss@example.test", b"cheap \"pills\"")
    r = quarantine(gw, "list")
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if line.split()[0] in (a, b)]
    assert [line.split()[0] for line in lines] == [a, b], "oldest first"
    assert 'subject="Grüße aus Bern"' in lines[0]
    assert 'subject="cheap ?pills?"' in lines[1], "one line per message: quotes replaced"
    listed = json.loads(quarantine(gw, "list", "--json").stdout)
    mine = {m["id"]: m for m in listed if m["id"] in (a, b)}
    assert mine[a]["score"] == 12 and mine[b]["score"] == 20
    assert mine[a]["subject"] == "Grüße aus Bern" and mine[b]["sender"] == "bob@spam.test"
    assert mine[b]["recipients"] == ["boss@example.test"]

    def ids(*args):
        return {m["id"] for m in json.loads(quarantine(gw, "list", "--json", *args).stdout)} & {a, b}
    assert ids("--from", "ALICE@") == {a}
    assert ids("--to", "boss") == {b}
    assert ids("--min-score", "15") == {b}
    assert ids("--since", "1h") == {a, b}
    r = quarantine(gw, "list", "--since", "soon")
    assert r.returncode == 2 and "not a duration" in r.stderr


def test_decimal_scores_are_listed_and_filtered_exactly(gw):
    c = hold(gw, TWELVE_AND_A_HALF, "carol@sender.test", "user@example.test", b"half")
    listed = {m["id"]: m for m in json.loads(quarantine(gw, "list", "--json").stdout)}
    assert listed[c]["score"] == 12.5 and listed[c]["verdict"] == "quarantine 12.5 RBL_FILE(12.5)"
    assert f'{c} ' in quarantine(gw, "list").stdout

    def ids(*args):
        return {m["id"] for m in json.loads(quarantine(gw, "list", "--json", *args).stdout)}
    assert c in ids("--min-score", "12.5") and c not in ids("--min-score", "12.51")
    assert all(listed[i]["score"] >= 12.5 for i in ids("--min-score", "12.5"))
    r = quarantine(gw, "list", "--min-score", "12.505")
    assert r.returncode == 2 and "--min-score 12.505: not a number (at most two decimals" in r.stderr


def test_held_mail_expires_after_the_configured_time(make_gateway_fn, make_sink_fn, tmp_path):
    tmp_path.chmod(0o755)
    gw = make_gateway_fn(sink=make_sink_fn(), scan=scan_section(str(tmp_path)), queue={"quarantine_expiry": "3s"})
    qid = hold(gw, TWELVE, "alice@sender.test", "user@example.test", b"expires")
    assert quarantine(gw, "list").stdout.count(qid) == 1
    gw.wait_event(proc="queue", event="quarantine_expired", queue_id=qid, timeout=15)
    assert not os.path.exists(gw.path("spool", "quarantine", qid))
    assert qid not in quarantine(gw, "list").stdout
