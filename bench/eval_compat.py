"""Rule compatibility of `make eval` (scripts/eval.sh): on the same test
messages, which rules fire in mailwarden (`mailwarden scan --json`, the
symbols of its `rules` check) and in SpamAssassin (the tests= list of its
X-Spam-Status, network tests off, the same rule files). Bayes is left out
of the comparison: the two tokenizers differ, so BAYES_* agreeing is not a
statement about the rule engine.

Prints the agreement (hits in common / hits of either, over every message
and rule) and, per rule, where the two differ most, with the reason when
mailwarden reports the rule as not supported (`check-config` lines in
WORKDIR/check-config.txt).
Usage: WORKDIR."""

import collections
import json
import os
import re
import sys

work = sys.argv[1]
TOP = 30


def left_out():
    """Rule name -> why mailwarden does not run it (from check-config)."""
    why = {}
    path = os.path.join(work, "check-config.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                m = re.match(r"\s+\S+:\d+: (\w+): (.*)", line)
                if m:
                    why[m.group(1)] = m.group(2).strip()
    return why


def mailwarden(cls):
    hits = {}
    with open(os.path.join(work, f"mw-{cls}.json")) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                hits[r["file"]] = {s["symbol"] for s in r["symbols"] if s["check"] == "rules"}
    return hits


def spamassassin(cls):
    hits = {}
    with open(os.path.join(work, f"sa-{cls}.txt")) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) == 3 and parts[0] != "none":
                tests = set() if parts[1] == "none" else set(parts[1].split(","))
                hits[parts[2]] = tests
    return hits


def comparable(rule):
    return not rule.startswith("BAYES_")


def main():
    why = left_out()
    both = collections.Counter()
    only_sa = collections.Counter()
    only_mw = collections.Counter()
    messages = 0
    for cls in ("spam", "ham"):
        mw, sa = mailwarden(cls), spamassassin(cls)
        for path in mw.keys() & sa.keys():
            messages += 1
            m = {r for r in mw[path] if comparable(r)}
            s = {r for r in sa[path] if comparable(r)}
            both.update(m & s)
            only_sa.update(s - m)
            only_mw.update(m - s)
    common = sum(both.values())
    union = common + sum(only_sa.values()) + sum(only_mw.values())
    known = [r for r in only_sa if r not in why]
    common_known = common
    union_known = common + sum(only_mw.values()) + sum(only_sa[r] for r in known)
    print(f"Rule hits compared on {messages} messages (Bayes left out):")
    print(f"- agreement on every rule: {common}/{union} hits "
          f"({100 * common / max(union, 1):.1f} %)")
    print(f"- agreement on the rules mailwarden runs: {common_known}/{union_known} hits "
          f"({100 * common_known / max(union_known, 1):.1f} %)")
    print()
    print("| rule | both | SpamAssassin only | mailwarden only | mailwarden |")
    print("|---|---:|---:|---:|---|")
    rules = sorted(set(only_sa) | set(only_mw), key=lambda r: -(only_sa[r] + only_mw[r]))
    for r in rules[:TOP]:
        print(f"| {r} | {both[r]} | {only_sa[r]} | {only_mw[r]} | {why.get(r, 'runs')} |")


main()
