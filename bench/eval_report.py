"""The figures of `make eval` (scripts/eval.sh): spam caught and ham
flagged (score >= 5) for mailwarden (`mailwarden scan --json` lines) and
SpamAssassin (`spamc -c` lines: "score/threshold path"), side by side.
Usage: WORKDIR MW_SECONDS SA_SECONDS."""

import json
import os
import sys

work, mw_secs, sa_secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
THRESHOLD = 5.0


def mailwarden(cls):
    scores = []
    with open(os.path.join(work, f"mw-{cls}.json")) as f:
        for line in f:
            if line.strip():
                scores.append(json.loads(line)["score"])
    return scores


def spamassassin(cls):
    scores = []
    with open(os.path.join(work, f"sa-{cls}.txt")) as f:
        for line in f:
            head = line.split(" ", 1)[0]
            try:
                scores.append(float(head.split("/")[0]))
            except ValueError:
                scores.append(None)   # spamc failed: counted as not judged
    return scores


def figures(name, spam, ham, secs):
    caught = sum(1 for s in spam if s is not None and s >= THRESHOLD)
    flagged = sum(1 for s in ham if s is not None and s >= THRESHOLD)
    missing = sum(1 for s in spam + ham if s is None)
    n = len(spam) + len(ham)
    return (f"| {name} | {caught}/{len(spam)} ({100 * caught / max(len(spam), 1):.1f} %) | "
            f"{flagged}/{len(ham)} ({100 * flagged / max(len(ham), 1):.2f} %) | "
            f"{1000 * secs / max(n, 1):.1f} ms | {missing} |")


print("| filter | spam caught | ham flagged | time per message | not judged |")
print("|---|---:|---:|---:|---:|")
print(figures("mailwarden", mailwarden("spam"), mailwarden("ham"), mw_secs))
print(figures("SpamAssassin 4 (spamd, local tests)", spamassassin("spam"), spamassassin("ham"), sa_secs))
