#!/usr/bin/python3
"""Time from saving a rule file to the first message judged by the new
rules (issue 11: rules take effect at once, without SIGHUP).

    MW_BIN=build/mailwarden /usr/bin/python3 bench/rules_reload.py [EXTRA_RULES_PATH]

A gateway scans with a one-rule local file (plus EXTRA_RULES_PATH, e.g.
/usr/share/spamassassin, to see what compiling a large set adds). The
rule's score is switched five times between 1 and 12 (refuse: 10); after
each save one message after another is sent until the reply changes
(250 <-> 550). Saves are spaced 1.3 s apart, so they fall at different
points of the master's once-a-second check."""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))

import mwsys  # noqa: E402

MESSAGE = b"Date: Mon, 07 Dec 2026 02:00:00 +0000\r\nMessage-ID: <%d@c.test>\r\nSubject: x\r\n\r\nfrobnicate\r\n"


def main():
    extra = sys.argv[1:2]
    workdir = mwsys.make_workdir("bench")
    os.chmod(workdir, 0o755)
    rules = os.path.join(workdir, "rules")
    os.makedirs(rules)
    os.chmod(rules, 0o755)
    local = os.path.join(rules, "50_local.cf")

    def save(score):
        with open(local, "w") as f:
            f.write(f"body MW_WORD /frobnicate/i\nscore MW_WORD {score}\n")
        os.chmod(local, 0o644)

    save(1)
    sink = mwsys.Sink(mwsys.PORTS.get())
    sink.start()
    cfg = mwsys.base_config(workdir, mwsys.PORTS.get(), sink.port)
    cfg["log"]["level"] = "info"
    cfg["scan"] = {"rules": [rules] + extra, "inbound": {"checks": {"rules": "score"}, "tag": 4, "refuse": 10}}
    gw = mwsys.Gateway(os.environ["MW_BIN"], workdir, cfg, name="bench")
    gw.start()
    times, n = [], 0
    try:
        for i in range(5):
            score, want = (12, 550) if i % 2 == 0 else (1, 250)
            time.sleep(1.3)
            t0 = time.monotonic()
            save(score)
            while True:
                n += 1
                if mwsys.send_message(gw, MESSAGE % n).code == want:
                    break
            times.append(time.monotonic() - t0)
    finally:
        gw.cleanup()
        sink.stop()
        mwsys.rmtree(workdir)
    print(f"rules={'+'.join([rules] + extra)}")
    print("save -> new verdict (s):", " ".join(f"{t:.2f}" for t in times), f"median {statistics.median(times):.2f}")


if __name__ == "__main__":
    main()
