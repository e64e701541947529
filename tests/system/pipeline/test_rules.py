"""Rules in SpamAssassin's format in the scanner (issue 11; SCAN-5):
scan.rules names rule files and directories; each rule that hits is a
symbol with the rule's score in the verdict; a rule set edited while the
gateway runs takes effect at once (test_rules_reload.py) and with a
SIGHUP reload too (the scanner is replaced with the newly compiled set);
lines we cannot run are reported by
check-config with the rule file's line, and a rule file that cannot be
read keeps the gateway from starting (fail closed).

Scores are decimals, counted in hundredths: a rule scored 2.5 is
NAME(2.5) in the verdict's log line, the scanner's and X-Spam-Status; two
such rules reach `tag: 5` exactly, 2.5 and 2.49 stay below it; thresholds
and check points take decimals too, and `mailwarden scan` prints them
(--json as numbers)."""

import json
import os
import signal
import subprocess

import pytest

import mwsys

RULES = """# test rules
header   MW_SUBJ_MONEY  Subject =~ /win money/i
describe MW_SUBJ_MONEY  Subject promises money
score    MW_SUBJ_MONEY  2.5
body     MW_BODY_PILLS  /cheap\\s+pills/i
score    MW_BODY_PILLS  6
body     __MW_URGENT    /urgent/i
meta     MW_URGENT_PILLS  MW_BODY_PILLS && __MW_URGENT
score    MW_URGENT_PILLS  4
body     MW_EVAL        eval:check_stuff()
uri      MW_URI_EVIL    m{^https?://[^/]*evil\\.example}i
score    MW_URI_EVIL    5
"""
HEAD = b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\nSubject: %s\r\n"


DECIMAL_RULES = """# decimal scores
header   MW_HALF_SUBJ   Subject =~ /half subject/i
score    MW_HALF_SUBJ   2.5
body     MW_HALF_BODY   /half body/i
score    MW_HALF_BODY   2.5
body     MW_ALMOST      /almost/i
score    MW_ALMOST      2.49
"""
DECIMAL_POLICY = {"checks": {"rules": "score", "headers": {"action": "score", "points": "0.25"}},
                  "tag": 5, "quarantine": "7.25"}


def message(token, subject=b"", body=b"hello", date=True):
    head = HEAD % (token, token + b" " + subject)
    if not date:
        head = head[head.index(b"\r\n") + 2:]
    return head + b"\r\n" + body + b"\r\n"


write_rules = mwsys.write_rule_dir


@pytest.fixture
def rules_dir(tmp_path):
    return write_rules(tmp_path, RULES)


def gateway(make_gateway_fn, make_sink_fn, rules, policy):
    sink = make_sink_fn()
    g = make_gateway_fn(sink=sink, scan={"rules": [str(rules)], "inbound": policy})
    g.sink = sink
    return g


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn, rules_dir):
    return gateway(make_gateway_fn, make_sink_fn, rules_dir, {"checks": {"rules": "score"}, "tag": 4, "refuse": 10})


@pytest.fixture
def decimal_gw(make_gateway_fn, make_sink_fn, tmp_path):
    return gateway(make_gateway_fn, make_sink_fn, write_rules(tmp_path, DECIMAL_RULES), DECIMAL_POLICY)


send = mwsys.send_message


def verdict(gw, final, start):
    assert final.code == 250, final
    return gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))


def test_rule_hits_are_symbols_with_their_scores(gw):
    start = gw.mark()
    v = verdict(gw, send(gw, message(b"r-tag", b"WIN MONEY today")), start)
    assert v["symbols"] == "MW_SUBJ_MONEY(2.5)" and v["action"] == "accept"  # the score as written
    v = verdict(gw, send(gw, message(b"r-pills", body=b"cheap   pills")), start)
    assert v["symbols"] == "MW_BODY_PILLS(6)" and v["action"] == "tag"
    assert b"MW_BODY_PILLS(6)" in gw.sink.wait_token("r-pills").data


def test_a_meta_rule_adds_up_to_a_refusal(gw):
    final = send(gw, message(b"r-meta", b"win money", b"URGENT: cheap pills"))
    assert final.code == 550, final  # 2.5 + 6 + 4 >= 10


def test_an_edited_rule_file_changes_the_next_verdict_after_a_reload(gw, rules_dir):
    start = gw.mark()
    v = verdict(gw, send(gw, message(b"r-before", body=b"cheap pills")), start)
    assert v["symbols"] == "MW_BODY_PILLS(6)"
    (rules_dir / "50_test.cf").write_text(RULES.replace("score    MW_BODY_PILLS  6", "score    MW_BODY_PILLS  1"))
    scanner = gw.pid("scanner")
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    gw.wait_event(start=start, proc="scanner", event="rules_loaded", rules="5")
    mwsys.wait_until(lambda: gw.pid("scanner") != scanner, what="a new scanner")
    gw.wait_event(start=start, proc="scanner", event="queue_connected")
    v = verdict(gw, send(gw, message(b"r-after", body=b"cheap pills")), start)
    assert v["symbols"] == "MW_BODY_PILLS(1)"


def test_check_config_names_unsupported_rules_with_their_line(gw, rules_dir, mw_bin):
    r = subprocess.run([mw_bin, "check-config", "--no-dns", "-c", gw.config_path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert "5 rules run, 1 lines or rules not supported" in out
    assert f"{rules_dir}/50_test.cf:10: MW_EVAL: eval:check_stuff not supported" in out


def test_a_missing_rule_file_is_a_configuration_error(make_gateway_fn, make_sink_fn, tmp_path, mw_bin):
    gw = make_gateway_fn(sink=make_sink_fn(), scan={"rules": [str(tmp_path / "nope.cf")]}, start=False)
    gw.write_config()
    r = subprocess.run([mw_bin, "check-config", "--no-dns", "-c", gw.config_path], capture_output=True, text=True)
    assert r.returncode != 0
    assert f"scan.rules: {tmp_path}/nope.cf: No such file or directory" in r.stdout + r.stderr


def test_uri_rules_see_links_in_html_and_behind_redirectors(gw):
    start = gw.mark()
    html = (b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
            b"<p>Your <a href=3D\"http://redirect.example/r?u=3Dhttps%3A%2F%2FEvil.example%2Fpay\">invoice</a></p>\r\n")
    token = b"r-uri"
    body = HEAD % (token, token) + html
    v = verdict(gw, send(gw, body), start)
    assert v["symbols"] == "MW_URI_EVIL(5)" and v["action"] == "tag"


def test_two_rules_scored_2_5_reach_tag_5_and_show_as_2_5(decimal_gw):
    gw = decimal_gw
    start = gw.mark()
    final = send(gw, message(b"d-two", b"half subject", b"half body"))
    v = verdict(gw, final, start)
    assert v["symbols"] == "MW_HALF_SUBJ(2.5),MW_HALF_BODY(2.5)"
    assert v["score"] == "5" and v["action"] == "tag"
    scanned = gw.wait_event(start=start, proc="scanner", event="content_scanned", queue_id=mwsys.queue_id(final))
    assert scanned["symbols"] == "MW_HALF_SUBJ(2.5),MW_HALF_BODY(2.5)"
    data = gw.sink.wait_token("d-two").data
    assert b"X-Spam-Score: 5\r\n" in data
    assert b"X-Spam-Status: Yes, score=5 required=5\r\n\ttests=MW_HALF_SUBJ(2.5),MW_HALF_BODY(2.5)\r\n" in data


def test_2_5_and_2_49_stay_below_tag_5(decimal_gw):
    gw = decimal_gw
    start = gw.mark()
    v = verdict(gw, send(gw, message(b"d-below", b"half subject", b"almost")), start)
    assert v["symbols"] == "MW_HALF_SUBJ(2.5),MW_ALMOST(2.49)"
    assert v["score"] == "4.99" and v["action"] == "accept"
    assert b"X-Spam-" not in gw.sink.wait_token("d-below").data


def test_decimal_check_points_and_a_decimal_threshold(decimal_gw):
    """The headers check scores its configured 0.25: with 2.5 + 2.5 + 2.49
    that is 7.74, past quarantine: 7.25."""
    gw = decimal_gw
    start = gw.mark()
    v = verdict(gw, send(gw, message(b"d-quar", b"half subject", b"half body almost", date=False)), start)
    assert v["symbols"] == "HEADER_MISSING_DATE(0.25),MW_HALF_SUBJ(2.5),MW_HALF_BODY(2.5),MW_ALMOST(2.49)"
    assert v["score"] == "7.74" and v["action"] == "quarantine"


def test_scan_command_prints_decimals_and_json_numbers(decimal_gw, mw_bin, tmp_path):
    decimal_gw.write_config()
    path = tmp_path / "two.eml"
    path.write_bytes(message(b"d-cmd", b"half subject", b"half body almost"))

    def scan(*args):
        r = subprocess.run([mw_bin, "scan", "-c", decimal_gw.config_path, *args, str(path)], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout
    lines = scan().splitlines()
    assert lines[0] == f"{path}: score 7.49, action quarantine"
    assert lines[1].split()[:3] == ["MW_HALF_SUBJ", "2.5", "rules"]
    assert lines[3].split()[:3] == ["MW_ALMOST", "2.49", "rules"]
    report = json.loads(scan("--json"))
    assert report["score"] == 7.49 and report["action"] == "quarantine"
    assert [(s["symbol"], s["points"]) for s in report["symbols"]] == [
        ("MW_HALF_SUBJ", 2.5), ("MW_HALF_BODY", 2.5), ("MW_ALMOST", 2.49)]
