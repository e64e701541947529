"""ReplaceTags rules through Hyperscan (issue 11, speed target; SCAN-5):
a rule whose look-alike tags expand to more than Hyperscan compiles in
good time (here 2.4 KiB) runs as a prefilter, through a cheaper superset
of each long tag, in a database of its own, and PCRE2 confirms each hit
with the rule as written: the scanner logs them as prefilters, none left
to PCRE2 alone, and the verdicts are the rules' own (look-alikes in
Latin-1, UTF-8 and HTML entities hit; near misses do not)."""

import pytest

import mwsys


def look_alike_tag(letter, digit, latin1, entity):
    """A tag as Debian's 25_replace.cf writes them, some 800 bytes."""
    alts = ["[%s%s%s\\x%02x]" % (letter, letter.upper(), digit, latin1), "[\\xc3][\\xa0-\\xa5]"]
    alts += ["[\\xf0][\\x9d](?:[\\x%02x][\\x%02x])" % (k, 0x80 + ord(letter) - ord("a")) for k in range(0x80, 0x98)]
    alts.append("&\\#(?:%d|x%x);" % (entity, entity))
    return "replace_tag %s (?:%s)\n" % (letter.upper(), "|".join(alts))


RULES = (
    look_alike_tag("a", "4", 0xE4, 97)
    + look_alike_tag("b", "8", 0xDF, 98)
    + look_alike_tag("c", "(", 0xE7, 99)
    + """replace_inter W1 \\W?
body     MW_FUZZY_ABC   /(?:^|\\s)<inter W1><A><B><C>(?:\\s|$)/i
score    MW_FUZZY_ABC   2
header   MW_SUBJ_CAB    Subject =~ /<C><A><B>/
score    MW_SUBJ_CAB    1
replace_rules MW_FUZZY_ABC MW_SUBJ_CAB
"""
)
HEAD = b"Date: Sun, 06 Dec 2026 20:00:00 +0000\r\nMessage-ID: <%s@client.test>\r\nSubject: %s\r\n"
TEXT = b"Content-Type: text/plain; charset=utf-8\r\n"


@pytest.fixture
def gw(make_gateway_fn, make_sink_fn, tmp_path):
    d = mwsys.write_rule_dir(tmp_path, RULES)
    return make_gateway_fn(sink=make_sink_fn(), scan={"rules": [str(d)], "inbound": {"checks": {"rules": "score"}}})


def verdict(gw, token, subject, body, start):
    final = mwsys.send_message(gw, HEAD % (token, subject) + TEXT + b"\r\n" + body + b"\r\n")
    assert final.code == 250, final
    return gw.wait_event(start=start, proc="queue", event="scan_verdict", queue_id=mwsys.queue_id(final))


def test_look_alike_rules_run_as_prefilters_with_the_rules_verdicts(gw):
    gw.wait_event(proc="master", event="rules_compiled", new="yes")
    fast = gw.wait_event(proc="scanner", event="rules_fast", cached="2")
    # Both through their supersets (before: both in PCRE2 alone, 2.4 KiB
    # each once expanded); one database for the body, one for Subject.
    assert (fast["exact"], fast["prefilter"], fast["pcre_only"]) == ("0", "2", "0"), fast
    assert fast["databases"] == "2", fast

    start = gw.mark()
    v = verdict(gw, b"s-1", b"cab", b"see a-b-c now", start)
    assert v["symbols"] == "MW_FUZZY_ABC(2),MW_SUBJ_CAB(1)", v
    # A digit, an entity and UTF-8 look-alikes.
    v = verdict(gw, b"s-2", b"(48", "see 4&#98;\u00e2 now".encode(), start)
    assert v["symbols"] == "MW_FUZZY_ABC(2),MW_SUBJ_CAB(1)", v
    # Near misses (the Subject is body text too): a letter between, no
    # space after, the wrong order.
    v = verdict(gw, b"s-3", b"bca", b"see abxc now, abc- and cba", start)
    assert v["symbols"] == "none", v
