"""Fast rule matching in the scanner (issue 11, "Fast matching"; SCAN-5):
the master's rules compiler compiles the rules' regexes into Hyperscan
databases in STATE_DIR/rules-cache while the first scanner already
serves (with PCRE2); then a scanner that reads them from there takes
over and logs how many run exactly, as a prefilter confirmed by PCRE2, or
in PCRE2 alone; a reload reads them from the cache instead of compiling
again; the verdicts are those of the rules (a look-ahead rule through
the prefilter, a count through PCRE2), before and after."""

import glob
import os
import signal

import pytest

import mwsys

RULES = """# fast path
header   MW_SUBJ_MONEY  Subject =~ /win money/i
score    MW_SUBJ_MONEY  2.5
body     MW_MONEY_NOT_BACK  /money(?! back)/
score    MW_MONEY_NOT_BACK  1.5
body     __MW_DOLLAR    /\\$\\d+/
tflags   __MW_DOLLAR    multiple
meta     MW_DOLLARS     __MW_DOLLAR >= 3
score    MW_DOLLARS     3
body     MW_ANY         /x*/
score    MW_ANY         0.01
"""
HEAD = b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\nSubject: %s\r\n"


def message(token, subject, body):
    return HEAD % (token, subject) + b"\r\n" + body + b"\r\n"


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn, tmp_path):
    d = mwsys.write_rule_dir(tmp_path, RULES)
    return make_gateway_fn(sink=make_sink_fn(), scan={"rules": [str(d)], "inbound": {"checks": {"rules": "score"}}})


def verdict(gw, token, subject, body, start):
    final = mwsys.send_message(gw, message(token, subject, body))
    assert final.code == 250, final
    return gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))


def test_rules_run_through_cached_hyperscan_databases(gw):
    # The compiler wrote both databases; a scanner reads them (the first
    # one, if the compiler was quicker than its start, else its successor).
    gw.wait_event(proc="master", event="rules_compiled", new="yes")
    fast = gw.wait_event(proc="scanner", event="rules_fast", cached="2")
    # Subject and body: one database each; the look-ahead as a prefilter,
    # the regex that matches the empty string in PCRE2 alone.
    assert (fast["exact"], fast["prefilter"], fast["pcre_only"]) == ("2", "1", "1"), fast
    assert fast["databases"] == "2", fast
    cached = glob.glob(gw.path("rules-cache", "hs-*.db"))
    assert len(cached) == 2, cached

    start = gw.mark()
    v = verdict(gw, b"f-1", b"win money", b"money for $1, $2 and $3", start)
    assert v["symbols"] == "MW_SUBJ_MONEY(2.5),MW_MONEY_NOT_BACK(1.5),MW_DOLLARS(3),MW_ANY(0.01)", v
    v = verdict(gw, b"f-2", b"hello", b"money back for $1 and $2", start)
    assert v["symbols"] == "MW_ANY(0.01)", v

    # A reload starts a new scanner: it reads both databases from the cache.
    scanner = gw.pid("scanner")
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    fast = gw.wait_event(start=start, proc="scanner", event="rules_fast")
    assert (fast["databases"], fast["cached"], fast["prefilter"]) == ("2", "2", "1"), fast
    gw.wait_event(start=start, proc="master", event="rules_compiled", new="no")
    mwsys.wait_until(lambda: gw.pid("scanner") != scanner, what="a new scanner")
    gw.wait_event(start=start, proc="scanner", event="queue_connected")
    v = verdict(gw, b"f-3", b"win money", b"money, $1 $2 $3 $4", start)
    assert v["symbols"] == "MW_SUBJ_MONEY(2.5),MW_MONEY_NOT_BACK(1.5),MW_DOLLARS(3),MW_ANY(0.01)", v
