"""Bayes training reaches the running gateway (issue 11): the master
watches state_dir/bayes.db, and once `mailwarden learn` has changed it a
new scanner reads it (no SIGHUP). With scan.bayes_autolearn, messages the
other checks judge clearly spam (at least `spam` points, Bayes' own left
out) or ham (at most `ham`) are learnt on their own, in a batch every
`interval`, by a learner the master forks; the scanner that follows uses
what was learnt."""

import os
import subprocess

import mwsys

HEAD = "Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <{id}@client.test>\r\n"
SPAM = "Subject: Cheap pills {i}\r\n\r\nBuy cheap pills now, casino winner money offer tablets {i}\r\n"
HAM = "Subject: Project meeting {i}\r\n\r\nThe project meeting agenda for tomorrow: budget report and lunch {i}\r\n"
# Only in the spam: the rule that makes it clear spam for auto-learning.
RULES = "body CLEAR_SPAM /cheap pills/i\nscore CLEAR_SPAM 20\n"
# Spam-like, but without the phrase the rule looks for: only Bayes can tell.
PROBE = "Subject: winner\r\n\r\nCasino money: winner offer now, tablets\r\n"


def message(template, i, prefix):
    return (HEAD.format(id=f"{prefix}{i}") + template.format(i=i)).encode()


def verdict(gw, body):
    start = gw.mark()
    final = mwsys.send_message(gw, body)
    assert final.code == 250, final
    return gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))


def test_learn_while_running_reaches_the_scanner(make_gateway_fn, make_sink_fn, tmp_path):
    gw = make_gateway_fn(sink=make_sink_fn(),
                         scan={"bayes_min_learned": 5, "inbound": {"checks": {"bayes": "score"}, "tag": 3}})
    v = verdict(gw, (HEAD.format(id="before") + PROBE).encode())
    assert "BAYES" not in v["symbols"], v  # nothing learnt yet
    for name, template, n in (("spam", SPAM, 6), ("ham", HAM, 6)):
        d = tmp_path / name
        d.mkdir()
        for i in range(n):
            (d / f"m{i}").write_bytes(message(template, i, name))
    start = gw.mark()
    for name in ("spam", "ham"):
        r = subprocess.run([gw.binary, "learn", "-c", gw.config_path, f"--{name}", str(tmp_path / name)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
    gw.wait_event(start=start, proc="master", event="bayes_changed")
    gw.wait_event(start=start, proc="scanner", event="bayes_loaded", spam="6", ham="6")
    gw.wait_event(start=start, proc="queue", event="scanner_connected")
    v = verdict(gw, (HEAD.format(id="after") + PROBE).encode())
    assert "BAYES_99" in v["symbols"] and v["action"] == "tag", v


def test_autolearn_learns_clear_verdicts(make_gateway_fn, make_sink_fn, tmp_path):
    rules = mwsys.write_rule_dir(tmp_path, RULES)
    gw = make_gateway_fn(sink=make_sink_fn(),
                         scan={"rules": [str(rules)], "bayes_min_learned": 5,
                               "bayes_autolearn": {"spam": 10, "ham": 0.1, "interval": 1},
                               "inbound": {"checks": {"bayes": "score", "rules": "score"}, "tag": 3}})
    start = gw.mark()
    for i in range(6):
        assert verdict(gw, message(SPAM, i, "spam"))["action"] == "tag"
        assert verdict(gw, message(HAM, i, "ham"))["action"] == "accept"
    gw.wait_event(start=start, proc="master", event="bayes_learnt", changed="yes")
    gw.wait_event(start=start, proc="scanner", event="bayes_loaded", spam="6", ham="6")
    gw.wait_event(start=start, proc="queue", event="scanner_connected")
    batches = gw.events(start=start, proc="master", event="bayes_autolearn")
    assert sum(int(e["samples"]) for e in batches) == 12, batches
    v = verdict(gw, (HEAD.format(id="probe") + PROBE).encode())
    assert "CLEAR_SPAM" not in v["symbols"] and "BAYES_99" in v["symbols"] and v["action"] == "tag", v


def test_autolearn_config_errors_name_the_key(make_gateway_fn, tmp_path):
    gw = make_gateway_fn(start=False, scan={"bayes_autolearn": {"spam": 1, "ham": 5}})
    gw.write_config()
    r = subprocess.run([gw.binary, "check-config", "-c", gw.config_path], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "scan.bayes_autolearn" in r.stderr and "ham must be below spam" in r.stderr, r.stderr
    gw = make_gateway_fn(start=False, scan={"bayes_autolearn": {"interval": "soon"}})
    gw.write_config()
    r = subprocess.run([gw.binary, "check-config", "-c", gw.config_path], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "scan.bayes_autolearn.interval" in r.stderr, r.stderr
