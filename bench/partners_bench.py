#!/usr/bin/python3
"""The known-partners point of `make bench` (issue 13, SCAN-11): what the
partners-only emergency level costs with 1 000 000 partner pairs loaded.

One gateway, the clients on the internet side (not trusted: partners_only
looks at inbound mail only), its store filled with the pairs once
(bench_partner_lookup, cached in the bench directory and copied into each
fresh state directory), plus the pairs the load and the latency probe use.
Each point starts the gateway anew and measures the same load twice over:

  level 0          the pairs loaded, nobody looks them up
  partners only    `ctl level partners`: every RCPT asks the cache

The partners-only figure must be at least 90 % of level 0's. Before the
load the script checks the level is in force: a stranger gets 450, the
load's own pair gets 250 (the cache is loaded). Called by scripts/bench.sh
when BENCH_PARTNERS=1; knobs: BENCH_PARTNERS_PAIRS (1000000),
BENCH_PARTNERS_MESSAGES (10000), BENCH_PARTNERS_CONCURRENCY ("50 200"),
BENCH_RUNS (3), BENCH_TIMEOUT.
"""

import os
import shutil
import smtplib
import subprocess
import sys
import time

import bench
from bench import ROOT, log
from content_bench import write_section

BEGIN = "<!-- partners point: begin (bench/partners_bench.py) -->"
END = "<!-- partners point: end -->"

# The pairs the load (smtp-source) and the latency probe (bench.py probe) use.
LOAD_PAIRS = [("rcpt@bench.test", "load@src.test"), ("p@probe.test", "probe@src.test")]


class MailwardenPartners(bench.Mailwarden):
    """The transport bench's gateway, receiving from the internet, with a
    partners-only level configured and the store filled."""
    name = "mailwarden-partners"
    trusted = "trusted_networks: []\n"  # the default trusts 127.0.0.1: the load is the internet here
    extra = """emergency:
  levels:
    - name: normal
    - name: partners
      partners_only: inbound
"""

    def __init__(self, work, binary, store):
        super().__init__(work, binary)
        self.store = store
        self.level = None   # None: level 0; else the level to switch to after start
        self.conf = os.path.join(self.dir, "mailwarden.yaml")

    def prepare_state(self, state_dir):
        os.makedirs(os.path.join(state_dir, "spool"))
        shutil.copyfile(self.store, os.path.join(state_dir, "spool", "partners.db"))

    def start(self):
        pid = super().start()
        if self.level:
            self.switch(self.level)
        self.wait_in_force()
        return pid

    def switch(self, level):
        """The control socket may come up a moment after the SMTP port."""
        deadline = time.monotonic() + 30
        while True:
            r = subprocess.run([self.bin, "ctl", "-c", self.conf, "level", level, "--reason", "bench"],
                               capture_output=True, text=True)
            if r.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"ctl level {level}: {r.stderr.strip()}")
            time.sleep(0.2)

    def rcpt_reply(self, sender, rcpt):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
            s.ehlo("src.test")
            s.mail(sender)
            code, _ = s.rcpt(rcpt)
            return code

    def wait_in_force(self):
        """Level 0: the load's pair is accepted. Partners only: a stranger
        gets 450 and the load's pair 250, i.e. the cache is loaded."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stranger = self.rcpt_reply("stranger@elsewhere.test", "rcpt@bench.test")
            known = self.rcpt_reply("load@src.test", "rcpt@bench.test")
            if known == 250 and (stranger == 450) == bool(self.level):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: level {self.level or 0} not in force after 60 s "
                           f"(stranger {stranger}, known pair {known})")


def make_store(work, pairs, binary_dir, bin_path):
    """The store with pairs generated pairs and the load's own, made once
    per pair count (bench_partner_lookup takes some 45 s for 1 000 000)."""
    store = os.path.join(work, f"partners-{pairs}.db")
    if os.path.exists(store):
        return store
    tmp = store + ".new"
    for side in ("", "-wal", "-shm"):
        if os.path.exists(tmp + side):
            os.unlink(tmp + side)
    log(f"filling a partners store with {pairs} pairs")
    subprocess.run([os.path.join(binary_dir, "bench_partner_lookup"), str(pairs), "1", tmp], check=True,
                   stdout=subprocess.DEVNULL)
    conf = os.path.join(work, "partners-fill.yaml")
    with open(conf, "w") as f:
        f.write(f"state_dir: {work}/partners-fill\nemergency: {{partners: {{file: {tmp}}}}}\n")
    for internal, external in LOAD_PAIRS:
        subprocess.run([bin_path, "partners", "-c", conf, "add", internal, external], check=True,
                       capture_output=True)
    os.rename(tmp, store)
    return store


def report(points, params, version):
    L = [BEGIN, "## Known partners under load (issue 13)", ""]
    L.append(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
             f"`{params['command']}`; {version}. One gateway receiving from the internet "
             f"(4 KiB messages, {params['messages']} per point, median of {params['runs']} runs), its "
             f"partners store filled with {params['pairs']:,} pairs; level 0 does not look them up, "
             "the partners-only level asks the in-memory cache on every RCPT (a stranger gets 450, "
             "checked before each load). Target: partners only ≥ 90 % of level 0.")
    L.append("")
    L.append("| sessions | figure | level 0 | partners only | share |")
    L.append("|---:|---|---:|---:|---:|")
    for conc in params["conc"]:
        for label, key, unit in [("end-to-end msg/s", "e2e_rate", ""), ("accepted msg/s", "accept_rate", ""),
                                 ("CPU s per 1000 msgs", "cpu_per_1k", "s"),
                                 ("peak RSS, MiB", "peak_rss", "MiB")]:
            v0 = bench.med([p for p in points if p["conc"] == conc and p["level"] == 0], key)
            vp = bench.med([p for p in points if p["conc"] == conc and p["level"] == 1], key)
            share = f"{vp / v0 * 100:.0f} %" if v0 else "n/a"
            L.append(f"| {conc} | {label} | {bench.fmt(v0, unit)} | {bench.fmt(vp, unit)} | {share} |")
    L.append("")
    L.append(END)
    return "\n".join(L) + "\n"


def main():
    out = os.environ.get("BENCH_OUT", os.path.join(ROOT, "docs", "benchmarks.md"))
    work = os.path.join(os.environ.get("BENCH_DIR", "/var/tmp/mailwarden-bench"), "partners")
    pairs = int(os.environ.get("BENCH_PARTNERS_PAIRS", "1000000"))
    count = int(os.environ.get("BENCH_PARTNERS_MESSAGES", "10000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    concs = [int(x) for x in bench.env_list("BENCH_PARTNERS_CONCURRENCY", "50 200")]
    timeout = float(os.environ.get("BENCH_TIMEOUT", "300"))
    binary = os.environ.get("MW_BIN", os.path.join(ROOT, "build", "mailwarden"))
    os.makedirs(work, exist_ok=True)
    store = make_store(work, pairs, os.path.dirname(binary), binary)
    gw = MailwardenPartners(work, binary, store)
    gw.setup()
    points = []
    try:
        for _ in range(runs):
            for conc in concs:
                for level in (0, 1):
                    gw.level = "partners" if level else None
                    p = bench.run_point(gw, work, conc, 4096, count, timeout)
                    p["level"] = level
                    points.append(p)
    finally:
        gw.stop()
    bad = [p for p in points if not p["complete"] or p["source_rc"] != 0]
    params = {"messages": count, "runs": runs, "conc": concs, "pairs": pairs,
              "command": os.environ.get("BENCH_COMMAND", "BENCH_PARTNERS=1 make bench")}
    write_section(out, report(points, params, gw.version()), BEGIN, END)
    log("wrote the partners point into", out)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
