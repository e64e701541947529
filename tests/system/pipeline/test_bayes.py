"""Bayes (issue 11): `mailwarden learn --spam|--ham` trains the store in
state_dir from message files, directories and mboxes; the scanner reads it
when it starts; a message like the spam learnt gets BAYES_99 and a verdict
it would not have had, one like the ham BAYES_00. Learning a message twice
counts once; --forget takes it out."""

import os
import subprocess

import pytest

import mwsys

SPAM = ["Subject: Cheap pills {i}\r\nMessage-ID: <spam{i}@spam.test>\r\n\r\n"
        "Buy cheap pills now, casino winner money offer viagra {i}\r\n",
        ]
HAM = ["Subject: Project meeting {i}\r\nMessage-ID: <ham{i}@corp.test>\r\n\r\n"
       "The project meeting agenda for tomorrow: budget report and lunch {i}\r\n"]
HEAD = b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\n"


def write_messages(path, template, n):
    os.makedirs(path, exist_ok=True)
    for i in range(n):
        with open(os.path.join(path, f"m{i}"), "w") as f:
            f.write(template[0].format(i=i))


def learn(gw, *args):
    return subprocess.run([gw.binary, "learn", "-c", gw.config_path, *args], capture_output=True, text=True,
                          timeout=30)


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn, tmp_path):
    g = make_gateway_fn(sink=make_sink_fn(), start=False,
                        scan={"bayes_min_learned": 5, "inbound": {"checks": {"bayes": "score"}, "tag": 3}})
    g.write_config()
    os.makedirs(g.state_dir, exist_ok=True)
    write_messages(tmp_path / "spam", SPAM, 6)
    write_messages(tmp_path / "ham", HAM, 5)
    mbox = tmp_path / "ham.mbox"
    mbox.write_text("From a@corp.test Sun Dec  6 20:00:00 2026\n" + HAM[0].format(i=90).replace("\r\n", "\n") +
                    "\n>From the archive\nFrom b@corp.test Sun Dec  6 20:01:00 2026\n" +
                    HAM[0].format(i=91).replace("\r\n", "\n"))
    r = learn(g, "--spam", str(tmp_path / "spam"))
    assert r.returncode == 0 and "6 of 6 messages changed the store" in r.stdout, r.stdout + r.stderr
    r = learn(g, "--ham", str(tmp_path / "ham"), str(mbox))
    assert r.returncode == 0 and "7 of 7 messages" in r.stdout and "holds 6 spam and 7 ham" in r.stdout, r.stdout
    g.tmp = tmp_path
    g.start()
    return g


send = mwsys.send_message


def verdict(gw, body):
    start = gw.mark()
    final = send(gw, body)
    assert final.code == 250, final
    return gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))


def test_trained_bayes_flips_the_verdict(gw):
    v = verdict(gw, HEAD % b"b1" + b"Subject: winner\r\n\r\nCheap pills, casino money: winner offer now\r\n")
    assert "BAYES_99(3.8)" in v["symbols"] and v["action"] == "tag", v  # SpamAssassin's score, not rounded
    v = verdict(gw, HEAD % b"b2" + b"Subject: agenda\r\n\r\nAgenda for the project meeting and the budget\r\n")
    assert "BAYES_00(-1.5)" in v["symbols"] and v["action"] == "accept", v


def test_learning_again_counts_once_and_forget_takes_it_out(gw):
    r = learn(gw, "--spam", str(gw.tmp / "spam"))
    assert "0 of 6 messages changed the store" in r.stdout, r.stdout
    r = learn(gw, "--forget", str(gw.tmp / "spam" / "m0"))
    assert "1 of 1 messages" in r.stdout and "holds 5 spam and 7 ham" in r.stdout, r.stdout
    assert learn(gw, "--spam").returncode == 2
    assert learn(gw, "--spam", "--ham", "x").returncode == 2
    r = learn(gw, "--ham", str(gw.tmp / "missing"))
    assert r.returncode == 1 and "missing: No such file or directory" in r.stderr
